// loop_delay, Node side: the workload of eddy.c in this directory (a 50 ms
// interval whose i-th run busy-waits (i * 7 % 10) * 3 ms), measured with
// perf_hooks.monitorEventLoopDelay({ resolution: 10 }), for argv[2]
// seconds (default 5). Prints the same keys as eddy.c.
'use strict';
const { monitorEventLoopDelay } = require('perf_hooks');

const secs = Number(process.argv[2] || 5);
const h = monitorEventLoopDelay({ resolution: 10 });
let runs = 0;

function spinMs(ms) {
  const until = process.hrtime.bigint() + BigInt(ms) * 1000000n;
  while (process.hrtime.bigint() < until);
}

h.enable();
const work = setInterval(() => {
  spinMs((runs * 7) % 10 * 3);
  runs++;
}, 50);
setTimeout(() => {
  h.disable();
  clearInterval(work);
  const ms = (ns) => (Number(ns) / 1e6).toFixed(3);
  console.log(`impl=node\nversion=${process.version}\nruns=${runs}`);
  console.log(`p50_ms=${ms(h.percentile(50))}\np99_ms=${ms(h.percentile(99))}`);
  console.log(`max_ms=${ms(h.max)}\ncount=${h.count}`);
}, secs * 1000);
