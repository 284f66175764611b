// atomics_pingpong, Node side: the same game as eddy.c between two
// worker_threads on one Int32Array of a SharedArrayBuffer, with
// Atomics.wait / Atomics.notify. Word 0 counts moves (A makes it odd, B
// even); word 1 counts the workers ready, so the clock (A's) starts when
// both run. argv[2]: round trips (default 300,000).
// Verifies: the word ends at 2n, no wait timed out, no move was skipped.
// Output: impl, version, n, wall_s, round_trips_per_s (higher is better).
'use strict';
const { Worker, isMainThread, parentPort, workerData } =
  require('node:worker_threads');

// Wait until word 0 holds want (10 s per wait: a lost wake-up fails).
function awaitMove(i32, want) {
  for (;;) {
    const cur = Atomics.load(i32, 0);
    if (cur === want) return true;
    if (cur > want) return false;
    if (Atomics.wait(i32, 0, cur, 10000) === 'timed-out') return false;
  }
}

function worker() {
  const { sab, side, n } = workerData;
  const i32 = new Int32Array(sab);
  Atomics.add(i32, 1, 1);
  Atomics.notify(i32, 1);
  for (let r; (r = Atomics.load(i32, 1)) < 2;) Atomics.wait(i32, 1, r);
  let ok = true;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n && ok; i++) {
    if (side === 'a') {
      Atomics.store(i32, 0, 2 * i + 1);
      Atomics.notify(i32, 0, 1);
      ok = awaitMove(i32, 2 * i + 2);
    } else {
      ok = awaitMove(i32, 2 * i + 1);
      Atomics.store(i32, 0, 2 * i + 2);
      Atomics.notify(i32, 0, 1);
    }
  }
  const t1 = process.hrtime.bigint();
  parentPort.postMessage({ side, ok, wall: Number(t1 - t0) / 1e9 });
}

function main() {
  const n = process.argv[2] === undefined ? 300000 : Number(process.argv[2]);
  if (!Number.isInteger(n) || n <= 0 || n > 0x3fffffff) {
    console.error(`bad count: ${process.argv[2]}`);
    process.exit(2);
  }
  const sab = new SharedArrayBuffer(8);
  const results = {};
  let done = 0;
  for (const side of ['a', 'b']) {
    const w = new Worker(__filename, { workerData: { sab, side, n } });
    w.on('message', (m) => { results[m.side] = m; });
    w.on('error', (e) => { console.error(e); process.exitCode = 1; });
    w.on('exit', () => {
      if (++done < 2) return;
      const i32 = new Int32Array(sab);
      let errs = 0;
      if (!results.a || !results.a.ok || !results.b || !results.b.ok) errs++;
      if (Atomics.load(i32, 0) !== 2 * n) errs++;
      if (errs) console.error('atomics_pingpong node: check failed');
      const wall = results.a ? results.a.wall : 0;
      console.log(`impl=node\nversion=${process.version}\nn=${n}`);
      console.log(`wall_s=${wall.toFixed(4)}`);
      console.log(`round_trips_per_s=${wall > 0 ? Math.round(n / wall) : 0}`);
      if (errs) process.exitCode = 1;
    });
  }
}

if (isMainThread) main(); else worker();
