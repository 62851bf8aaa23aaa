// Drives the official @microsoft/signalr client for the hub tests, one JSON command per stdin line:
//   {"id":1,"cmd":"connect","name":"a","url":"http://127.0.0.1:P/hubs/notifications","token":"...",
//    "reconnect":true,"skipNegotiation":false,"keepAlive":15000,"queryToken":false}
//   {"id":2,"cmd":"invoke","name":"a","method":"GetUnread","args":[]}
//   {"id":3,"cmd":"state","name":"a"}      {"id":4,"cmd":"stop","name":"a"}
// Replies: {"id":N,"ok":true,...} or {"id":N,"ok":false,"error":"..."}. Events, unprompted:
//   {"event":"notification","name":"a","notification":{...}}
//   {"event":"reconnecting"|"reconnected"|"closed","name":"a","error":...}
"use strict";
const signalR = require("@microsoft/signalr");
const readline = require("readline");

const connections = new Map();
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

async function connect(msg) {
  const options = {};
  if (msg.token) options.accessTokenFactory = () => msg.token;
  if (msg.skipNegotiation) {
    options.skipNegotiation = true;
    options.transport = signalR.HttpTransportType.WebSockets;
  }
  let builder = new signalR.HubConnectionBuilder()
    .withUrl(msg.url, options)
    .configureLogging(signalR.LogLevel.None);
  if (msg.reconnect) builder = builder.withAutomaticReconnect([0, 250, 500, 1000, 1000, 1000, 1000, 2000, 2000, 2000]);
  if (msg.keepAlive) builder = builder.withKeepAliveInterval(msg.keepAlive);
  const c = builder.build();
  const name = msg.name;
  c.on("ReceiveNotification", (n) => out({ event: "notification", name, notification: n }));
  c.onreconnecting((e) => out({ event: "reconnecting", name, error: e ? String(e) : null }));
  c.onreconnected(() => out({ event: "reconnected", name }));
  c.onclose((e) => out({ event: "closed", name, error: e ? String(e) : null }));
  connections.set(name, c);
  await c.start();
  return { connectionId: c.connectionId };
}

async function handle(msg) {
  const c = connections.get(msg.name);
  switch (msg.cmd) {
    case "connect":
      return connect(msg);
    case "invoke":
      return { result: await c.invoke(msg.method, ...(msg.args || [])) };
    case "send":
      await c.send(msg.method, ...(msg.args || []));
      return {};
    case "state":
      return { state: c.state };
    case "stop":
      await c.stop();
      return {};
    default:
      throw new Error("unknown command " + msg.cmd);
  }
}

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const msg = JSON.parse(line);
  handle(msg).then(
    (r) => out({ id: msg.id, ok: true, ...r }),
    (e) => out({ id: msg.id, ok: false, error: String(e && e.message ? e.message : e) }),
  );
}).on("close", () => process.exit(0));
