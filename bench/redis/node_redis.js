// bench/redis/node_redis.js: the node-redis side of the Redis benchmarks
// (rtt and pipelineN, see common.h), the same commands as the C sides.
//
//   node node_redis.js MODULE_DIR PORT MODE SECONDS
//
// MODULE_DIR holds node_modules/redis (bench/redis/run.sh installs it
// there with npm, under the build tree). node-redis pipelines by itself:
// commands issued in one tick go out together, so a batch is N commands
// issued at once and awaited together.
'use strict';
const path = require('path');

const [moduleDir, portArg, mode, secondsArg] = process.argv.slice(2);
const { createClient } = require(path.join(moduleDir, 'node_modules', 'redis'));
const version = require(path.join(moduleDir, 'node_modules', 'redis',
  'package.json')).version;
const KEY = 'bench:redis:k';
const VALUE = 'xyz';
const depth = mode === 'rtt' ? 1 : parseInt(mode.replace('pipeline', ''), 10);
const seconds = parseFloat(secondsArg);

async function main() {
  let errors = 0;
  const client = createClient({ socket: { host: '127.0.0.1',
    port: parseInt(portArg, 10) } });
  client.on('error', () => { errors++; });
  await client.connect();
  await client.set(KEY, VALUE);
  const now = () => Number(process.hrtime.bigint()) / 1e9;
  const tMeasure = now() + seconds / 10;
  const tEnd = tMeasure + seconds;
  let measuring = false, ops = 0, tStart = 0, t;
  for (;;) {
    const batch = [];
    for (let i = 0; i < depth; i++)
      batch.push(depth > 1 && (i & 1) === 0 ? client.set(KEY, VALUE)
        : client.get(KEY));
    const replies = await Promise.all(batch);
    for (let i = 0; i < depth; i++) {
      const want = depth > 1 && (i & 1) === 0 ? 'OK' : VALUE;
      if (replies[i] !== want) errors++;
    }
    ops += depth;
    t = now();
    if (!measuring && t >= tMeasure) {
      measuring = true;
      ops = 0;
      tStart = t;
    }
    if (t >= tEnd) break;
  }
  await client.quit();
  console.log(`ops_per_s=${Math.round(ops / (t - tStart))}`);
  console.log(`version=${version}`);
  console.log(`errors=${errors}`);
  process.exitCode = errors ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
