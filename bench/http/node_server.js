// bench/http/node_server.js: Node's side of the HTTP benchmark (same
// answer as eddy_server.c: 200, text/plain, "hello\n", keep-alive).
const http = require('http');
const port = Number(process.argv[2] || 8080);
http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('hello\n');
}).listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
