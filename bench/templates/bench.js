// The JavaScript side of bench/templates: mustache.js and handlebars on the same data and templates.
//   node bench.js run SECONDS        renders/s of each, as JSON
//   node bench.js print NAME         one output: {mustache,mustache-pre,handlebars}-{sms,email}
//   node bench.js table FILES...     merges the JSON results of several rounds and prints the table
// mustache.js uses section lambdas and handlebars registered helpers, both implementing the same formatting
// as the C++ helpers (money, date, mask, upper), so every engine does the helper work on each render.
'use strict';
const fs = require('fs');
const path = require('path');

const dir = __dirname;
const read = (name) => fs.readFileSync(path.join(dir, name), 'utf8');

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
  'October', 'November', 'December'];

function money(text) {
  const n = Number(String(text).trim());
  if (!Number.isFinite(n)) return String(text);
  const [whole, frac] = Math.abs(n).toFixed(2).split('.');
  return (n < 0 ? '-K ' : 'K ') + whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + '.' + frac;
}

function date(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text).trim());
  if (!m) return String(text);
  return `${Number(m[3])} ${MONTHS[Number(m[2]) - 1]} ${m[1]}`;
}

function mask(text) {
  const s = String(text).trim();
  const total = (s.match(/[0-9A-Za-z]/g) || []).length;
  const keepFrom = total > 4 ? total - 4 : total;
  let seen = 0;
  let out = '';
  for (const c of s) {
    if (/[0-9A-Za-z]/.test(c)) {
      out += seen >= keepFrom ? c : '*';
      seen++;
    } else {
      out += c;
    }
  }
  return out;
}

const upper = (text) => String(text).toUpperCase();

function engines() {
  const Mustache = require(path.join(dir, 'node_modules', 'mustache'));
  const Handlebars = require(path.join(dir, 'node_modules', 'handlebars'));
  const data = JSON.parse(read('data.json'));

  const view = Object.assign({}, data);
  const lambda = (f) => () => (text, render) => f(render(text));
  view.money = lambda(money);
  view.date = lambda(date);
  view.mask = lambda(mask);
  view.upper = lambda(upper);
  const sms = read('sms.mustache');
  const email = read('email.mustache');
  Mustache.parse(sms);
  Mustache.parse(email);

  // The same data with the helper results computed up front (as mstch gets it): mustache.js then does no
  // helper work at all, which shows its speed on plain interpolation.
  const pre = JSON.parse(JSON.stringify(data));
  Object.assign(pre, {
    amount_fmt: money(data.amount), account_masked: mask(data.account), due_date_fmt: date(data.due_date),
    principal_fmt: money(data.principal), approved_on_fmt: date(data.approved_on),
    overdue_amount_fmt: money(data.overdue_amount), branch_upper: upper(data.branch),
  });
  for (const i of pre.installments) Object.assign(i, { due_fmt: date(i.due), amount_fmt: money(i.amount) });
  const preSms = read('sms.mstch.mustache');
  const preEmail = read('email.mstch.mustache');
  Mustache.parse(preSms);
  Mustache.parse(preEmail);

  const hb = Handlebars.create();
  hb.registerHelper('money', money);
  hb.registerHelper('date', date);
  hb.registerHelper('mask', mask);
  hb.registerHelper('upper', upper);
  // "Precompiled": the template function comes from Handlebars.precompile's output, as a build step would.
  const precompiled = (src) => hb.template(new Function('return ' + hb.precompile(src))());
  const hbSms = precompiled(read('sms.hbs'));
  const hbEmail = precompiled(read('email.hbs'));

  return {
    versions: { mustache: Mustache.version, handlebars: Handlebars.VERSION },
    'mustache-sms': () => Mustache.render(sms, view),
    'mustache-email': () => Mustache.render(email, view),
    'mustache-pre-sms': () => Mustache.render(preSms, pre),
    'mustache-pre-email': () => Mustache.render(preEmail, pre),
    'handlebars-sms': () => hbSms(data),
    'handlebars-email': () => hbEmail(data),
  };
}

// Renders per CPU-second of the process (GC and JIT threads included), like google benchmark's CPU-time
// rate on the C++ side: on a shared machine, wall time would mostly measure the neighbours.
function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function measure(fn, seconds) {
  let sink = 0;
  const warmEnd = cpuSeconds() + 0.3;
  while (cpuSeconds() < warmEnd) for (let i = 0; i < 100; i++) sink += fn().length;
  const start = cpuSeconds();
  let n = 0;
  let now;
  do {
    for (let i = 0; i < 200; i++) sink += fn().length;
    n += 200;
    now = cpuSeconds();
  } while (now - start < seconds);
  if (sink === 0) throw new Error('no output');
  return n / (now - start);
}

function fmt(n) {
  return Math.round(n).toLocaleString('en-US');
}

function table(files) {
  // Best of the rounds for each implementation: the figure least disturbed by other work on the machine.
  const best = {};
  const rounds = {};
  let versions = {};
  for (const f of files) {
    const r = JSON.parse(fs.readFileSync(f, 'utf8'));
    if (r.benchmarks) {  // google benchmark JSON
      for (const b of r.benchmarks) {
        const key = b.name.replace(/^BM_/, '');
        (rounds[key] = rounds[key] || []).push(b.items_per_second);
      }
    } else {
      versions = r.versions;
      for (const [k, v] of Object.entries(r.results)) (rounds[k] = rounds[k] || []).push(v);
    }
  }
  for (const [k, v] of Object.entries(rounds)) best[k] = Math.max(...v);
  const rows = [
    ['Ours_Sms', 'ours (compiled once, helpers as lambdas)', 'sms'],
    ['OursCompile_Sms', 'ours, compile + render every time', 'sms'],
    ['OursPre_Sms', 'ours (pre-formatted values, no helper work)', 'sms'],
    ['Mstch_Sms', 'mstch 1.0.2 (pre-formatted values; parses every render)', 'sms'],
    ['mustache-sms', `mustache.js ${versions.mustache} (cached parse, lambdas)`, 'sms'],
    ['mustache-pre-sms', `mustache.js ${versions.mustache} (pre-formatted values, no helper work)`, 'sms'],
    ['handlebars-sms', `handlebars ${versions.handlebars} (precompiled, helpers)`, 'sms'],
    ['Ours_Email', 'ours (compiled once, helpers as lambdas)', 'email'],
    ['OursCompile_Email', 'ours, compile + render every time', 'email'],
    ['OursPre_Email', 'ours (pre-formatted values, no helper work)', 'email'],
    ['Mstch_Email', 'mstch 1.0.2 (pre-formatted values; parses every render)', 'email'],
    ['mustache-email', `mustache.js ${versions.mustache} (cached parse, lambdas)`, 'email'],
    ['mustache-pre-email', `mustache.js ${versions.mustache} (pre-formatted values, no helper work)`, 'email'],
    ['handlebars-email', `handlebars ${versions.handlebars} (precompiled, helpers)`, 'email'],
  ];
  const lines = [];
  lines.push('| template | implementation | renders per CPU-second (best of ' + (rounds.Ours_Sms || []).length +
             ') | all rounds | ours / this |');
  lines.push('|---|---|---:|---|---:|');
  for (const [key, label, kind] of rows) {
    if (!(key in best)) continue;
    const ours = best[kind === 'sms' ? 'Ours_Sms' : 'Ours_Email'];
    const all = rounds[key].map((v) => fmt(v)).join(' / ');
    lines.push(`| ${kind} | ${label} | ${fmt(best[key])} | ${all} | ${(ours / best[key]).toFixed(1)}x |`);
  }
  lines.push('');
  for (const kind of ['Sms', 'Email']) {
    const ours = best['Ours_' + kind];
    const m = best['Mstch_' + kind];
    const js = best['mustache-' + kind.toLowerCase()];
    const jsPre = best['mustache-pre-' + kind.toLowerCase()];
    const oursPre = best['OursPre_' + kind];
    const ratio = (a, b) => (a && b ? (a / b).toFixed(1) + 'x' : 'n/a');
    lines.push(`${kind.toLowerCase()}: ours/mstch = ${ratio(ours, m)}; ours/mustache.js = ${ratio(ours, js)} ` +
               `(both with helpers), ${ratio(oursPre, jsPre)} (both with pre-formatted values), ` +
               `${ratio(ours, jsPre)} (ours with helpers vs mustache.js without)`);
  }
  console.log(lines.join('\n'));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'run') {
  const e = engines();
  const seconds = Number(args[0] || 1);
  const results = {};
  for (const k of ['mustache-sms', 'mustache-pre-sms', 'handlebars-sms', 'mustache-email', 'mustache-pre-email',
    'handlebars-email']) {
    results[k] = measure(e[k], seconds);
  }
  console.log(JSON.stringify({ versions: e.versions, results }));
} else if (mode === 'print') {
  process.stdout.write(engines()[args[0]]());
} else if (mode === 'table') {
  table(args);
} else {
  console.error('usage: node bench.js run SECONDS | print NAME | table FILES...');
  process.exit(2);
}
