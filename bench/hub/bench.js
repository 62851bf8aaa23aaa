// Coordinates one bench/hub run (see run.sh): for each server in turn, hold N WebSocket clients
// spread over several load processes, measure memory, then fan one notification out to all of them,
// round after round, and in a burst.
//
//   node bench.js --hub-bin PATH [--clients 10000] [--procs 4] [--rounds 20] [--warmup 3] [--burst 20]
//                 [--targets hub,socketio] [--threads 2] [--json FILE]
"use strict";
const { spawn, fork } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const path = require("path");
const { performance } = require("perf_hooks");

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const N = Number(args.clients || 10000);
const PROCS = Number(args.procs || 4);
const ROUNDS = Number(args.rounds || 20);
const BURST = Number(args.burst || 20);
const WARMUP = Number(args.warmup || 3);
const THREADS = String(args.threads || 2);
const TARGETS = (args.targets || "hub,socketio").split(",");
const SECRET = "bench-hub-secret-0123456789abcdef0123456789";
const GROUP = "branch:bench";
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function b64url(x) {
  return Buffer.from(x).toString("base64").replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}
function token(sub) {
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const iat = Math.floor(Date.now() / 1000);
  const body = b64url(JSON.stringify({ sub, role: "staff", branch: "bench", iat, exp: iat + 3600 }));
  const sig = b64url(crypto.createHmac("sha256", SECRET).update(header + "." + body).digest());
  return `${header}.${body}.${sig}`;
}

function rssKb(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]);
}
// User + system CPU time of a process so far, in ms.
function cpuMs(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;  // utime, stime in USER_HZ (100)
}
function slabKb() {
  return Number(fs.readFileSync("/proc/meminfo", "utf8").match(/^Slab:\s+(\d+) kB/m)[1]);
}
function sockstat() {
  const m = fs.readFileSync("/proc/net/sockstat", "utf8").match(/TCP: inuse (\d+) orphan \d+ tw \d+ alloc (\d+) mem (\d+)/);
  return { inuse: Number(m[1]), alloc: Number(m[2]), memPages: Number(m[3]) };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
function post(port, pathname, body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body || {});
    const req = http.request(
      { host: "127.0.0.1", port, path: pathname, method: "POST", agent,
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) } },
      (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve(text));
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

function startServer(name) {
  const here = __dirname;
  const proc =
    name === "hub"
      ? spawn(args["hub-bin"], ["127.0.0.1:0", THREADS, SECRET], { stdio: ["ignore", "pipe", "inherit"] })
      : spawn(process.execPath, ["--expose-gc", path.join(here, "sio_server.js"), "0", SECRET],
              { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    proc.stdout.on("data", (c) => {
      out += c;
      const m = out.match(/listening on port (\d+)/);
      if (m) resolve({ proc, port: Number(m[1]) });
    });
    proc.on("exit", (code) => reject(new Error(`${name} server exited with ${code}`)));
  });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function run(name) {
  const { proc: server, port } = await startServer(name);
  const gc = () => (name === "socketio" ? post(port, "/bench/gc") : Promise.resolve());
  await sleep(1000);
  await gc();
  await sleep(300);
  const rss0 = rssKb(server.pid);
  const sock0 = sockstat();
  const slab0 = slabKb();

  const perProc = Math.ceil(N / PROCS);
  const workers = [];
  const listeners = new Set();
  for (let p = 0; p < PROCS; p++) {
    const w = fork(path.join(__dirname, "load_client.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    w.on("message", (m) => listeners.forEach((l) => l(p, m)));
    workers.push(w);
  }
  const await_all = (type, filter = () => true, timeoutMs = 120000) =>
    new Promise((resolve, reject) => {
      const got = new Map();
      const timer = setTimeout(() => { listeners.delete(l); reject(new Error(`timeout waiting for ${type}`)); }, timeoutMs);
      const l = (p, m) => {
        if (m.type !== type || !filter(m)) return;
        got.set(p, m);
        if (got.size === workers.length) {
          clearTimeout(timer);
          listeners.delete(l);
          resolve([...got.values()]);
        }
      };
      listeners.add(l);
    });

  const connectStart = now();
  const ready = await_all("ready");
  workers.forEach((w, p) => {
    const tokens = [];
    for (let i = p * perProc; i < Math.min(N, (p + 1) * perProc); i++) tokens.push(token("u" + i));
    w.send({ cmd: "start", target: name, port, tokens });
  });
  const readies = await ready;
  const connected = readies.reduce((a, r) => a + r.connected, 0);
  const failed = readies.reduce((a, r) => a + r.failed, 0);
  const connectSeconds = (now() - connectStart) / 1000;
  await sleep(2000);
  await gc();
  await sleep(500);
  const rss1 = rssKb(server.pid);
  const sock1 = sockstat();
  const slab1 = slabKb();

  // Fan-out rounds: one notification to every client, the next once all had it. The warm-up rounds
  // (JIT, allocator pools, first writes) are not counted.
  const collect = async () => {
    const all = await_all("latencies");
    workers.forEach((w) => w.send({ cmd: "latencies" }));
    return (await all).flatMap((m) => m.values);
  };
  const roundMax = [];
  for (let r = 1; r <= WARMUP + ROUNDS; r++) {
    if (r === WARMUP + 1) await collect();
    const done = await_all("round", (m) => m.round === r, 30000);
    const t0 = now();
    await post(port, "/bench/publish", { group: GROUP, content: `r=${r};t=${t0}` });
    const reports = await done;
    if (r > WARMUP) roundMax.push(Math.max(...reports.map((m) => m.max)));
    await sleep(200);
  }
  const lat = (await collect()).sort((a, b) => a - b);

  // A burst: BURST notifications back to back, each to every client.
  const first = WARMUP + ROUNDS + 1;
  const burstDone = Array.from({ length: BURST }, (_, i) => await_all("round", (m) => m.round === first + i, 60000));
  const cpu0 = cpuMs(server.pid);
  const clientCpu0 = workers.reduce((a, w) => a + cpuMs(w.pid), 0);
  const burstStart = now();
  await Promise.all(Array.from({ length: BURST }, (_, i) =>
    post(port, "/bench/publish", { group: GROUP, content: `r=${first + i};t=${now()}` })));
  await Promise.all(burstDone);
  const burstSeconds = (now() - burstStart) / 1000;
  const cpu1 = cpuMs(server.pid);
  const clientCpu1 = workers.reduce((a, w) => a + cpuMs(w.pid), 0);
  workers.forEach((w) => w.send({ cmd: "latencies" }));  // drop the burst's samples
  await sleep(300);

  workers.forEach((w) => w.send({ cmd: "close" }));
  await sleep(1500);
  server.kill("SIGKILL");
  await sleep(500);

  const perConnBytes = ((rss1 - rss0) * 1024) / connected;
  const kernelPerConn = ((sock1.memPages - sock0.memPages) * 4096) / connected;
  const roundRates = roundMax.map((ms) => connected / (ms / 1000));
  return {
    server: name,
    connected,
    failed,
    connectSeconds,
    rssBeforeMiB: rss0 / 1024,
    rssAfterMiB: rss1 / 1024,
    rssPerConnectionBytes: perConnBytes,
    connectionsPerGiB: (1024 * 1024 * 1024) / perConnBytes,
    kernelTcpPerConnectionBytes: kernelPerConn,
    kernelSlabPerConnectionBytes: ((slab1 - slab0) * 1024) / connected,
    serverCpuUsPerMessage: ((cpu1 - cpu0) * 1000) / (connected * BURST),
    clientCpuUsPerMessage: ((clientCpu1 - clientCpu0) * 1000) / (connected * BURST),
    tcpSocketsAdded: sock1.inuse - sock0.inuse,
    latencyP50Ms: percentile(lat, 50),
    latencyP99Ms: percentile(lat, 99),
    latencyMaxMs: lat[lat.length - 1],
    samples: lat.length,
    fanoutMsgsPerSec: median(roundRates),
    fanoutCompleteMsMedian: median(roundMax),
    burstMsgsPerSec: (connected * BURST) / burstSeconds,
  };
}

(async () => {
  const results = [];
  for (const t of TARGETS) {
    process.stderr.write(`bench/hub: ${t} with ${N} clients over ${PROCS} processes...\n`);
    results.push(await run(t));
  }
  const f = (x, d = 1) => (typeof x === "number" ? x.toFixed(d) : String(x));
  const rows = [
    ["connected (failed)", (r) => `${r.connected} (${r.failed})`],
    ["time to connect all, s", (r) => f(r.connectSeconds)],
    ["server RSS before / after, MiB", (r) => `${f(r.rssBeforeMiB)} / ${f(r.rssAfterMiB)}`],
    ["RSS per connection, bytes", (r) => f(r.rssPerConnectionBytes, 0)],
    ["connections per GiB of RSS", (r) => f(r.connectionsPerGiB, 0)],
    ["kernel TCP buffer memory per connection (sockstat, both ends), bytes", (r) => f(r.kernelTcpPerConnectionBytes, 0)],
    ["kernel slab growth per connection (both ends, whole machine), bytes", (r) => f(r.kernelSlabPerConnectionBytes, 0)],
    ["fan-out latency p50, ms", (r) => f(r.latencyP50Ms)],
    ["fan-out latency p99, ms", (r) => f(r.latencyP99Ms)],
    ["fan-out latency max, ms", (r) => f(r.latencyMaxMs)],
    ["one fan-out complete (median round), ms", (r) => f(r.fanoutCompleteMsMedian)],
    ["fan-out messages/s (median round)", (r) => f(r.fanoutMsgsPerSec, 0)],
    [`burst of ${BURST} fan-outs, messages/s`, (r) => f(r.burstMsgsPerSec, 0)],
    ["server CPU per delivered message (during the burst), µs", (r) => f(r.serverCpuUsPerMessage, 2)],
    ["load clients' CPU per delivered message (same burst), µs", (r) => f(r.clientCpuUsPerMessage, 2)],
  ];
  let table = `| ${N} clients, ${PROCS} load processes, ${ROUNDS} rounds (+${WARMUP} warm-up) | ${results.map((r) => r.server).join(" | ")} |\n`;
  table += `|---|${results.map(() => "---").join("|")}|\n`;
  for (const [label, get] of rows) table += `| ${label} | ${results.map(get).join(" | ")} |\n`;
  const hub = results.find((r) => r.server === "hub"), sio = results.find((r) => r.server === "socketio");
  if (hub && sio) {
    table += `\nhub vs socket.io: connections/GiB ${f(hub.connectionsPerGiB / sio.connectionsPerGiB, 2)}x, ` +
      `p50 ${f(sio.latencyP50Ms / hub.latencyP50Ms, 2)}x, p99 ${f(sio.latencyP99Ms / hub.latencyP99Ms, 2)}x, ` +
      `fan-out msgs/s ${f(hub.fanoutMsgsPerSec / sio.fanoutMsgsPerSec, 2)}x, ` +
      `burst msgs/s ${f(hub.burstMsgsPerSec / sio.burstMsgsPerSec, 2)}x, ` +
      `server CPU per message ${f(sio.serverCpuUsPerMessage / hub.serverCpuUsPerMessage, 2)}x ` +
      `(higher is better for the hub)\n`;
  }
  process.stdout.write(table);
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(results, null, 2));
  process.exit(0);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
