// One load process for bench/hub (forked by bench.js): holds many WebSocket clients of one server on
// plain `net` sockets with a minimal RFC 6455 client (so that the clients' own CPU, which shares the
// machine with the server, stays small), speaking the SignalR JSON hub protocol or socket.io's
// engine.io v4 protocol. Both kinds do the same per-message work: find the notification in the frame
// and read its send time out of the content ("r=ROUND;t=MS").
//
// IPC from bench.js: {cmd:"start", target:"hub"|"socketio", port, tokens:[...]} -> {type:"ready", connected, failed}
//                    {cmd:"latencies"} -> {type:"latencies", values:[ms...]}      {cmd:"close"}
// Unprompted: {type:"round", round, max} once every client got that round (max: its slowest latency, ms).
"use strict";
const net = require("net");
const crypto = require("crypto");
const { performance } = require("perf_hooks");

const RS = "\x1e";
const now = () => performance.timeOrigin + performance.now();
const CONNECT_CONCURRENCY = 100;
const MARK = Buffer.from("r=");

let target, port;
const clients = [];
let latencies = [];
const rounds = new Map(); // round -> {count, max}

function received(buf, from) {
  const at = now();
  const i = buf.indexOf(MARK, from);
  if (i < 0) return;
  const semi = buf.indexOf(59 /* ; */, i);
  const end = buf.indexOf(34 /* " */, semi);
  const round = Number(buf.toString("latin1", i + 2, semi));
  const latency = at - Number(buf.toString("latin1", semi + 3, end));
  latencies.push(latency);
  let r = rounds.get(round);
  if (!r) rounds.set(round, (r = { count: 0, max: 0 }));
  r.count++;
  if (latency > r.max) r.max = latency;
  if (r.count === clients.length) {
    process.send({ type: "round", round, max: r.max });
    rounds.delete(round);
  }
}

// A client frame (masked with a zero key: the payload goes as it is).
function frame(opcode, text) {
  const payload = Buffer.from(text);
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x80 | opcode, 0x80 | n]) : Buffer.from([0x80 | opcode, 0x80 | 126, n >> 8, n & 255]);
  return Buffer.concat([head, Buffer.alloc(4), payload]);
}

// Opens a WebSocket on `path`; calls onText(buffer, start, end) for each text frame and done(ok) once.
function open(path, onOpen, onText, done) {
  const sock = net.connect(port, "127.0.0.1");
  let upgraded = false, pending = null, settled = false;
  const settle = (ok) => { if (!settled) { settled = true; done(ok ? sock : null); } };
  sock.setNoDelay(true);
  sock.on("connect", () => {
    const key = crypto.randomBytes(16).toString("base64");
    sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
               `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  });
  sock.on("data", (chunk) => {
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    let pos = 0;
    if (!upgraded) {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) { pending = buf; return; }
      if (!buf.toString("latin1", 0, 12).includes(" 101")) { sock.destroy(); settle(false); return; }
      upgraded = true;
      pos = end + 4;
      onOpen(sock);
    }
    while (buf.length - pos >= 2) {
      const op = buf[pos] & 0x0f;
      let n = buf[pos + 1] & 0x7f, h = 2;
      if (n === 126) { if (buf.length - pos < 4) break; n = buf.readUInt16BE(pos + 2); h = 4; }
      else if (n === 127) { if (buf.length - pos < 10) break; n = Number(buf.readBigUInt64BE(pos + 2)); h = 10; }
      if (buf.length - pos < h + n) break;
      const start = pos + h, end = start + n;
      if (op === 1) onText(sock, buf, start, end);
      else if (op === 9) sock.write(frame(10, buf.toString("latin1", start, end)));
      else if (op === 8) sock.end();
      pos = end;
    }
    if (pos < buf.length) pending = buf.subarray(pos);
  });
  sock.on("error", () => settle(false));
  sock.on("close", () => settle(false));
  sock.ready = settle;
}

function hubClient(token, done) {
  let ready = false;
  open(`/hubs/notifications?access_token=${token}`,
       (sock) => sock.write(frame(1, '{"protocol":"json","version":1}' + RS)),
       (sock, buf, start, end) => {
         if (!ready) {
           ready = buf[start] === 123 && buf[start + 1] === 125;  // "{}"
           sock.ready(ready);
           return;
         }
         // Records of this frame; only invocations (type 1) carry notifications.
         for (let s = start; s < end;) {
           const e = buf.indexOf(30, s);
           if (e < 0 || e > end) break;
           if (buf[s + 8] === 49 /* {"type":1 */) received(buf, s);
           s = e + 1;
         }
       }, (sock) => {
         if (sock) sock.keepAlive = () => sock.write(frame(1, '{"type":6}' + RS));
         done(sock);
       });
}

function sioClient(token, done) {
  open("/socket.io/?EIO=4&transport=websocket", () => {},
       (sock, buf, start, end) => {
         const c0 = buf[start], c1 = buf[start + 1];
         if (c0 === 52 && c1 === 50) received(buf, start);                         // 42[...] event
         else if (c0 === 50 && end - start === 1) sock.write(frame(1, "3"));       // engine.io ping
         else if (c0 === 48) sock.write(frame(1, "40" + JSON.stringify({ token }))); // open: connect "/"
         else if (c0 === 52 && c1 === 48) sock.ready(true);                        // 40: connected
         else if (c0 === 52 && c1 === 52) sock.ready(false);                       // 44: refused
       }, (sock) => {
         if (sock) sock.keepAlive = () => {};  // the server pings; the client answers
         done(sock);
       });
}

function start(msg) {
  target = msg.target;
  port = msg.port;
  const make = target === "hub" ? hubClient : sioClient;
  const tokens = msg.tokens;
  let next = 0, finished = 0, failed = 0;
  const launch = () => {
    if (next >= tokens.length) return;
    make(tokens[next++], (sock) => {
      finished++;
      if (sock) clients.push(sock);
      else failed++;
      if (finished === tokens.length) process.send({ type: "ready", connected: clients.length, failed });
      else launch();
    });
  };
  for (let i = 0; i < CONNECT_CONCURRENCY; i++) launch();
  // The SignalR client sends a Ping every 15 s (the hub drops a client silent for 30 s).
  setInterval(() => clients.forEach((s) => s.keepAlive()), 15000).unref();
}

process.on("message", (msg) => {
  if (msg.cmd === "start") start(msg);
  else if (msg.cmd === "latencies") {
    process.send({ type: "latencies", values: latencies });
    latencies = [];
  } else if (msg.cmd === "close") {
    clients.forEach((s) => s.destroy());
    setTimeout(() => process.exit(0), 200);
  }
});
