// fidelity, Node side: the same three programs as bench/fidelity/eddy.c,
// printing the same lines.
'use strict';
const { spawn } = require('child_process');

const now = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const busy = (ms) => {
  const end = process.hrtime.bigint() + BigInt(ms) * 1000000n;
  while (process.hrtime.bigint() < end) {}
};

const [mode, a, b] = process.argv.slice(2);
if (mode === 'interval') {
  const starts = [];
  const t0 = process.hrtime.bigint();
  const h = setInterval(() => {
    starts.push(now(t0).toFixed(0));
    if (starts.length === 5) { clearInterval(h); console.log(starts.join(' ')); return; }
    busy(Number(b));
  }, Number(a));
} else if (mode === 'behind') {
  const t0 = process.hrtime.bigint();
  setTimeout(() => busy(50), 5);
  setTimeout(() => console.log(now(t0).toFixed(0)), 10);
} else if (mode === 'exit_order') {
  const n = Number(a);
  let early = 0, i = 0;
  const one = () => {
    if (i++ === n) { console.log(`${early} of ${n}`); return; }
    const c = spawn('sh', ['-c', 'echo data'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let ended = false;
    c.stdout.on('data', () => {});
    c.stdout.on('end', () => { ended = true; });
    c.on('exit', () => { if (!ended) early++; });
    c.on('close', one);
  };
  one();
} else {
  console.error('usage: node.js interval PERIOD BUSY | behind | exit_order N');
  process.exit(2);
}
