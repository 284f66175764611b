// worker_messages, Node side: the same measurements as eddy.c on
// worker_threads (one-way, ping-pong, 1 KiB and 1 MiB transfers, start to
// first message, RSS per idle worker). argv[2]: N (default 1,000,000).
'use strict';
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');

if (!isMainThread) {
  const mode = workerData.mode;
  parentPort.on('message', (m) => {
    if (m === 'q') return parentPort.close();
    if (m === 'o') {
      for (let i = 0; i < workerData.n; i++) parentPort.postMessage(1);
      return;
    }
    if (mode === 'hello') return;
    if (mode === 2) parentPort.postMessage(m, [m]);
    else parentPort.postMessage(m);
  });
  if (mode === 'hello') parentPort.postMessage('h');
  return;
}

const n = Number(process.argv[2] || 1000000);
function run(mode, count, size) {
  return new Promise((resolve) => {
    const w = new Worker(__filename, { workerData: { mode, n } });
    let got = 0, t0, t1;
    w.on('message', (m) => {
      got++;
      if (mode === 0) {
        if (got === n) { t1 = process.hrtime.bigint(); w.postMessage('q'); }
        return;
      }
      if (got === count) { t1 = process.hrtime.bigint(); w.postMessage('q'); return; }
      if (mode === 2) w.postMessage(m, [m]); else w.postMessage(m);
    });
    w.on('exit', () => resolve((mode === 0 ? n : count) / (Number(t1 - t0) / 1e9)));
    w.on('online', () => {
      t0 = process.hrtime.bigint();
      if (mode === 0) w.postMessage('o');
      else if (mode === 2) { const b = new ArrayBuffer(size); w.postMessage(b, [b]); }
      else w.postMessage(1);
    });
  });
}
async function startToFirst() {
  const t = [];
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => {
      const t0 = process.hrtime.bigint();
      const w = new Worker(__filename, { workerData: { mode: 'hello', n } });
      w.on('message', () => { t.push(Number(process.hrtime.bigint() - t0) / 1e6); w.terminate(); });
      w.on('exit', resolve);
    });
  }
  t.sort((a, b) => a - b);
  return t[10];
}
async function rss() {
  const before = process.memoryUsage().rss;
  const ws = [];
  for (let i = 0; i < 20; i++) {
    const w = new Worker(__filename, { workerData: { mode: 'hello', n } });
    await new Promise((r) => w.once('message', r));
    ws.push(w);
  }
  await new Promise((r) => setTimeout(r, 300));
  const per = (process.memoryUsage().rss - before) / 20 / 1024;
  await Promise.all(ws.map((w) => w.terminate()));
  return per;
}
(async () => {
  console.log(`impl=node\nversion=${process.version}`);
  console.log(`oneway_msgs_per_s=${(await run(0, n, 0)).toFixed(0)}`);
  console.log(`pingpong_rt_per_s=${(await run(1, n / 10, 0)).toFixed(0)}`);
  console.log(`transfer_1k_per_s=${(await run(2, n / 10, 1024)).toFixed(0)}`);
  console.log(`transfer_1m_per_s=${(await run(2, n / 100, 1 << 20)).toFixed(0)}`);
  console.log(`start_to_first_ms=${(await startToFirst()).toFixed(3)}`);
  console.log(`rss_per_idle_worker_kib=${(await rss()).toFixed(0)}`);
})();
