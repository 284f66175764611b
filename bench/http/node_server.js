// bench/http/node_server.js: Node's side of the HTTP benchmark (same
// answer as eddy_server.c: 200, text/plain, "hello\n", keep-alive).
//   node node_server.js PORT [KEEPALIVE_MS]
// KEEPALIVE_MS sets server.keepAliveTimeout (default 5000), as
// eddy_server.c's argument does (run.sh's idle_rss mode). PORT 0 takes a
// port the kernel picks; "listening PORT" says which, once ready.
const http = require('http');
const port = Number(process.argv[2] || 8080);
const server = http.createServer((req, res) => {
  // Content-Length as eddy and nginx send it: after writeHead, Node would
  // otherwise send this body chunked.
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 6 });
  res.end('hello\n');
});
if (process.argv[3]) server.keepAliveTimeout = Number(process.argv[3]);
server.listen(port, '127.0.0.1',
              () => console.log(`listening ${server.address().port}`));
