'use strict';
// The fastest WebSocket broadcaster node can be, as a yardstick for the shared harness's wsfan
// client: every POST /bench/broadcast writes one pre-built text frame of about BYTES bytes
// (LEADERBOARD_UPDATE with a "ts" taken just before the loop) to every open socket, with no
// per-client work beyond the write. What wsfan measures against it is the client's own floor.
//
//   NODE_PATH=/tmp/bench/wsfan/node_modules BYTES=4000 PORT=18091 node benches/ideal-ws-peer.js
//   node /tmp/bench/wsfan/wsfan.js --url ws://127.0.0.1:18091/ws/leaderboard --conns 10000 \
//     --trigger-url http://127.0.0.1:18091/bench/broadcast
const http = require('http');
const { WebSocketServer } = require('ws');

const PORT = Number(process.env.PORT || 18091);
const BYTES = Number(process.env.BYTES || 4000);

function textFrame(text) {
  const payload = Buffer.from(text);
  let header;
  if (payload.length < 126) {
    header = Buffer.from([0x81, payload.length]);
  } else if (payload.length < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x81;
    header[1] = 126;
    header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x81;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  return Buffer.concat([header, payload]);
}

let seq = 0;
const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/bench/broadcast') {
    res.statusCode = 404;
    res.end();
    return;
  }
  seq += 1;
  const head = JSON.stringify({ type: 'LEADERBOARD_UPDATE', seq, ts: new Date().toISOString() });
  const filler = 'x'.repeat(Math.max(0, BYTES - head.length - 12));
  const frame = textFrame(`${head.slice(0, -1)},"data":"${filler}"}`);
  let clients = 0;
  for (const ws of wss.clients) {
    ws._socket.write(frame);
    clients += 1;
  }
  res.end(JSON.stringify({ seq, clients, bytes: frame.length }));
});
const wss = new WebSocketServer({ server, path: '/ws/leaderboard' });
server.listen(PORT, '127.0.0.1', () => console.error(`ideal-ws-peer pid ${process.pid} on 127.0.0.1:${PORT}, ${BYTES} B`));
