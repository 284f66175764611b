// bench/cluster/node_cluster.js: Node's side of the cluster benchmark:
// the same answer as eddy_cluster_server.c (200 text/plain "hello\n").
//   node node_cluster.js PORT [WORKERS [pid]]   ("pid": "hello PID\n")
// The scheduling is NODE_CLUSTER_SCHED_POLICY's (rr or none). Prints
// "listening PORT" once every worker listens. SIGHUP: the naive restart
// many deployments use: kill every worker and fork new ones.
const cluster = require('cluster');
const http = require('http');
const port = Number(process.argv[2] || 0);
const n = Number(process.argv[3] || 2);
const body = process.argv[4] === 'pid' ? `hello ${process.pid}\n` : 'hello\n';
if (cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < n; i++) cluster.fork();
  cluster.on('listening', (w, addr) => {
    if (++listening === n) console.log(`listening ${addr.port}`);
  });
  process.on('SIGTERM', () => cluster.disconnect());
  process.on('SIGHUP', () => {
    for (const id in cluster.workers) {
      cluster.workers[id].process.kill('SIGTERM');
      cluster.fork();
    }
  });
} else {
  http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain',
                         'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }).listen(port, '127.0.0.1');
}
