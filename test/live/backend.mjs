// A stand-in web backend for the live lab (not a generated file): listens on HOST:PORT from the
// generated EnvironmentFile, answers HEALTH_PATH with 200, every other path with a JSON line
// naming the node, and completes a websocket upgrade (101, one text frame, then close). Every
// answer carries `x-mhc-backend: <node>`, so the lab sees which node's backend nginx reached.
import http from 'node:http';
import { createHash } from 'node:crypto';

const { HOST = '0.0.0.0', PORT, MHC_NODE = '?', MHC_SERVICE = '?', HEALTH_PATH = '/health' } = process.env;

const server = http.createServer((req, res) => {
  res.setHeader('x-mhc-backend', MHC_NODE);
  if (req.url === HEALTH_PATH) {
    res.end('ok\n');
    return;
  }
  res.setHeader('content-type', 'application/json');
  res.end(`${JSON.stringify({ node: MHC_NODE, service: MHC_SERVICE, path: req.url })}\n`);
});

server.on('upgrade', (req, socket) => {
  const key = req.headers['sec-websocket-key'];
  if (String(req.headers.upgrade).toLowerCase() !== 'websocket' || !key) {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    return;
  }
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nx-mhc-backend: ${MHC_NODE}\r\n\r\n`);
  const msg = Buffer.from(`mhc-ws ${MHC_NODE} ${MHC_SERVICE}`);
  socket.write(Buffer.concat([Buffer.from([0x81, msg.length]), msg]));
  setTimeout(() => socket.end(Buffer.from([0x88, 0x00])), 300);
  socket.on('error', () => {});
});

server.listen(Number(PORT), HOST, () => console.log(`backend ${MHC_SERVICE} on ${MHC_NODE} listening on ${HOST}:${PORT}`));
process.on('SIGTERM', () => process.exit(0));
