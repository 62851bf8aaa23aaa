// The socket.io reference for bench/hub (what Novu's in-app service runs), doing the hub's work:
// a JWT (HS256, same secret and claims) checked when a client connects, the same groups joined
// (user:{sub}, role:{role}, branch:{branch}), pings every 15 s, and
//
//   POST /bench/publish {"group":"branch:bench","content":"..."}   io.to(group).emit("ReceiveNotification", n)
//
// with n shaped like the hub's in-app view. WebSocket transport only, no compression (as the hub).
//
//   node --expose-gc sio_server.js PORT SECRET     # prints "listening on port P"; POST /bench/gc runs gc()
"use strict";
const http = require("http");
const crypto = require("crypto");
const { Server } = require("socket.io");

const port = Number(process.argv[2] || 0);
const secret = process.argv[3] || "bench-secret-bench-secret-bench-secret";

function b64url(buf) {
  return buf.toString("base64").replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}

// HS256 verification, as the hub's TokenVerifier does it (signature, exp); null when invalid.
function verify(token) {
  if (typeof token !== "string") return null;
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const expected = b64url(crypto.createHmac("sha256", secret).update(parts[0] + "." + parts[1]).digest());
  const a = Buffer.from(expected), b = Buffer.from(parts[2]);
  if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) return null;
  const claims = JSON.parse(Buffer.from(parts[1], "base64").toString());
  if (!claims.sub || !claims.exp || claims.exp * 1000 < Date.now()) return null;
  return claims;
}

function readBody(req) {
  return new Promise((resolve) => {
    let data = "";
    req.on("data", (c) => (data += c));
    req.on("end", () => resolve(data));
  });
}

const server = http.createServer(async (req, res) => {
  if (req.method === "POST" && req.url === "/bench/publish") {
    const body = JSON.parse(await readBody(req));
    const n = {
      id: crypto.randomUUID(),
      recipientId: body.group,
      category: null,
      subject: "Loan update",
      content: body.content,
      createdAt: new Date().toISOString(),
      readAt: null,
      correlationId: null,
    };
    io.to(body.group).emit("ReceiveNotification", n);
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ delivered: io.sockets.adapter.rooms.has(body.group) }));
    return;
  }
  if (req.method === "POST" && req.url === "/bench/gc") {
    if (global.gc) global.gc();
    res.end("{}");
    return;
  }
  res.writeHead(404);
  res.end();
});

const io = new Server(server, {
  transports: ["websocket"],
  perMessageDeflate: false,
  httpCompression: false,
  pingInterval: 15000,
  pingTimeout: 20000,
  serveClient: false,
});

io.use((socket, next) => {
  const claims = verify(socket.handshake.auth && socket.handshake.auth.token);
  if (!claims) return next(new Error("unauthorized"));
  socket.data.claims = claims;
  next();
});

io.on("connection", (socket) => {
  const c = socket.data.claims;
  const rooms = ["user:" + c.sub];
  if (c.role && c.role !== "customer") {
    rooms.push("role:" + c.role);
    if (c.branch) rooms.push("branch:" + c.branch);
  }
  socket.join(rooms);
});

server.listen(port, "127.0.0.1", () => {
  console.log("listening on port " + server.address().port);
});
