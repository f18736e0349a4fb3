/**
 * The dashboard page served at `GET /`: one self-contained HTML document (inline CSS, a small
 * script and hand-written SVG charts; no framework, no CDN, no build step). It polls
 * `/dashboard/state` every second and shows the cluster with its past: members by name (version,
 * uptime, readiness, keys, memory), distinct keys beside the copies held, the timeline every
 * member kept (so a node killed before the page was opened is there), charts of the last 15
 * minutes, and a key browser (prefix search over the list API, TTL, size, metadata; delete).
 *
 * With `AUTH_TOKEN` set the page asks for the token once, keeps it in `sessionStorage` and sends
 * it as `Authorization`; every request it makes carries `X-Cachenode-Dashboard`, so the node
 * leaves them out of its request series.
 *
 * @module
 */

const STYLE = `
:root { --fg:#1d2330; --muted:#6b7280; --line:#e5e7eb; --bg:#f8fafc; --card:#fff; --accent:#2563eb;
  --alive:#15803d; --suspect:#b45309; --dead:#b91c1c; --left:#4b5563; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif; color:var(--fg); background:var(--bg); }
header { padding:12px 24px; background:var(--card); border-bottom:1px solid var(--line); display:flex; gap:20px; align-items:baseline; flex-wrap:wrap; }
h1 { font-size:18px; margin:0; } h2 { font-size:14px; margin:0 0 6px; }
.muted { color:var(--muted); } .bad { color:var(--dead); } .ok { color:var(--alive); }
main { padding:16px 24px; display:grid; gap:16px; }
.cards { display:flex; gap:10px; flex-wrap:wrap; }
.card, .chart, .panel { background:var(--card); border:1px solid var(--line); border-radius:8px; }
.card { padding:6px 10px; min-width:96px; } .card b { display:block; font-size:17px; }
.charts { display:grid; grid-template-columns:repeat(auto-fill,minmax(260px,1fr)); gap:10px; }
.chart { padding:8px 10px 4px; } .chart svg { width:100%; height:90px; display:block; }
.chart .head { display:flex; justify-content:space-between; font-size:12px; }
table { width:100%; border-collapse:collapse; background:var(--card); border:1px solid var(--line); border-radius:8px; overflow:hidden; }
th, td { text-align:left; padding:6px 10px; border-bottom:1px solid var(--line); white-space:nowrap; }
th { font-size:12px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); background:#f1f5f9; }
td.num { text-align:right; font-variant-numeric:tabular-nums; } td.wrap { white-space:normal; word-break:break-all; }
.state { display:inline-block; padding:1px 8px; border-radius:999px; font-size:12px; font-weight:600; color:#fff; }
.alive { background:var(--alive); } .suspect { background:var(--suspect); } .dead { background:var(--dead); }
.left { background:var(--left); } .start, .join, .refute { background:var(--accent); }
.backlog-drop, .eviction-spike { background:var(--suspect); }
tr.self td:first-child::after { content:" (this node)"; color:var(--muted); font-weight:normal; }
#events { padding:8px 12px; max-height:240px; overflow:auto; font-size:13px; }
#events div { padding:2px 0; } #events time { font-family:ui-monospace,monospace; color:var(--muted); margin-right:8px; }
.panel { padding:10px 12px; }
input, button { font:inherit; padding:4px 8px; border:1px solid var(--line); border-radius:6px; }
button { background:#f1f5f9; cursor:pointer; } button.danger { color:var(--dead); }
#auth { display:none; gap:8px; align-items:center; } #auth.shown { display:flex; }
`;

const SCRIPT = `
const TOKEN_KEY = "cachenode-token";
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
const fmtBytes = (n) => n >= 1073741824 ? (n / 1073741824).toFixed(1) + " GiB" : n >= 1048576 ? (n / 1048576).toFixed(1) + " MiB" : n >= 1024 ? (n / 1024).toFixed(1) + " KiB" : n + " B";
const fmtNum = (n) => n >= 100 ? Math.round(n).toString() : n >= 10 ? n.toFixed(1) : n.toFixed(2).replace(/\\.?0+$/, "") || "0";
const fmtDuration = (ms) => { const s = Math.max(0, Math.floor(ms / 1000)); const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
  return d ? d + "d " + h + "h" : h ? h + "h " + m + "m" : m ? m + "m " + (s % 60) + "s" : s + "s"; };
const clock = (t) => new Date(t).toLocaleTimeString();
function headers(extra) {
  const h = Object.assign({ "x-cachenode-dashboard": "1" }, extra || {});
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) h.authorization = "Bearer " + token;
  return h;
}
async function api(path, init) {
  const res = await fetch(path, Object.assign({ cache: "no-store" }, init || {}, { headers: headers(init && init.headers) }));
  if (res.status === 401) { askToken(sessionStorage.getItem(TOKEN_KEY) ? "wrong token" : "this node needs its token"); throw new Error("401"); }
  return res;
}
function askToken(why) { $("auth").classList.add("shown"); $("auth-why").textContent = why; }
$("auth").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  $("token").value = ""; $("auth").classList.remove("shown"); poll();
});

// The x axis spans the samples there are (at least a minute, at most the 15 minutes kept).
const WINDOW_MS = 15 * 60 * 1000, MIN_SPAN_MS = 60 * 1000, W = 300, H = 90;
function chart(id, lines, now, span, fmt, fixedMax) {
  const all = lines.flatMap((l) => l.values.filter((v) => v !== null));
  const max = fixedMax || Math.max(1, ...all);
  const x = (t) => ((t - (now - span)) / span * W).toFixed(1);
  const y = (v) => (H - 4 - v / max * (H - 8)).toFixed(1);
  // A line per run of seconds with a value (a ratio has none without reads); a lone one is a dot.
  const paths = lines.flatMap((l) => {
    const runs = [[]];
    l.t.forEach((t, i) => l.values[i] === null ? runs.push([]) : runs[runs.length - 1].push([x(t), y(l.values[i])]));
    return runs.filter((r) => r.length).map((r) => r.length === 1
      ? '<circle r="1.5" fill="' + l.color + '" cx="' + r[0][0] + '" cy="' + r[0][1] + '"/>'
      : '<polyline fill="none" stroke="' + l.color + '" stroke-width="1.5"' + (l.dash ? ' stroke-dasharray="4 3"' : "") +
        ' points="' + r.map((p) => p.join(",")).join(" ") + '"/>');
  });
  const last = lines[0].values.filter((v) => v !== null).pop();
  const el = $(id);
  el.querySelector("svg").innerHTML = '<line x1="0" y1="' + (H - 4) + '" x2="' + W + '" y2="' + (H - 4) + '" stroke="#e5e7eb"/>' +
    '<text x="2" y="10" font-size="9" fill="#6b7280">' + esc(fmt(max)) + "</text>" + paths.join("");
  el.querySelector(".last").textContent = last === undefined ? "–" : fmt(last);
}
const ratio = (a, b) => a.map((h, i) => h + b[i] > 0 ? 100 * h / (h + b[i]) : null);
function charts(s) {
  const se = s.series, now = s.time, pct = (v) => fmtNum(v) + " %";
  const span = Math.min(WINDOW_MS, Math.max(MIN_SPAN_MS, se.t.length ? now - se.t[0] : 0));
  $("span").textContent = fmtDuration(span);
  const one = (values, color, dash) => ({ t: se.t, values, color, dash });
  chart("chart-requests", [one(se.requests, "#2563eb")], now, span, (v) => fmtNum(v) + "/s");
  chart("chart-hits", [one(ratio(se.hits, se.misses), "#15803d")], now, span, pct, 100);
  const cap = Math.max(0, ...se.maxBytes);
  chart("chart-memory", [one(se.bytes, "#7c3aed")].concat(cap ? [one(se.maxBytes, "#b91c1c", true)] : []), now, span, fmtBytes);
  chart("chart-lag", [one(se.lagMs, "#b45309")], now, span, (v) => fmtNum(v) + " ms");
  $("chart-edge").hidden = !se.edgeHits;
  if (se.edgeHits) chart("chart-edge", [one(ratio(se.edgeHits, se.edgeMisses), "#0891b2")], now, span, pct, 100);
}

function members(s) {
  const counts = { alive: 0, suspect: 0, dead: 0, left: 0 };
  let bytes = 0, maxBytes = 0;
  $("rows").innerHTML = s.members.map((m) => {
    counts[m.state]++;
    // A member not answering now shows, muted, what it said last (when this node heard it).
    const sum = m.summary || (m.lastSeen && m.lastSeen.summary);
    if (m.summary) { bytes += sum.bytes; maxBytes += sum.maxBytes; }
    const link = m.url ? '<a href="' + esc(m.url) + '/">' + esc(m.url) + "</a>" : "";
    const ready = !sum ? "–" : !m.summary ? '<span class="muted">last heard ' + clock(m.lastSeen.at) + "</span>" : sum.readiness.ready
      ? '<span class="ok">ready</span>' : '<span class="bad">' + esc(sum.readiness.reason || "not ready") + "</span>";
    const cell = (v) => '<td class="num' + (m.summary ? "" : " muted") + '">' + (v == null ? "–" : v) + "</td>";
    return '<tr data-member="' + esc(m.name) + '" class="' + (m.name === s.self ? "self" : "") + '">' +
      "<td>" + esc(m.name) + '</td><td><span class="state ' + esc(m.state) + '">' + esc(m.state) + "</span></td>" +
      '<td class="' + (m.summary ? "" : "muted") + '">' + (sum ? esc(sum.version) : "–") + "</td>" +
      cell(m.summary && fmtDuration(s.time - sum.startedAt)) + "<td>" + ready + "</td>" +
      '<td class="num">' + m.incarnation + "</td><td>" + esc(m.addr) + ":" + m.port + "</td><td>" + link + "</td>" +
      cell(sum && sum.keys) + cell(sum && fmtBytes(sum.bytes) + (sum.maxBytes ? " / " + fmtBytes(sum.maxBytes) : "")) + "</tr>";
  }).join("");
  for (const k of Object.keys(counts)) $("n-" + k).textContent = counts[k];
  $("unique").textContent = s.keys.unique;
  $("copies").textContent = s.keys.copies;
  $("memory").textContent = fmtBytes(bytes) + (maxBytes ? " / " + fmtBytes(maxBytes) : "");
  // Cards: the last 10 seconds, steadier than the last one.
  const recent = (col) => s.series[col].slice(-10).reduce((a, b) => a + b, 0);
  const seconds = Math.min(10, s.series.t.length), hits = recent("hits"), reads = hits + recent("misses");
  $("rate").textContent = seconds ? fmtNum(recent("requests") / seconds) : "–";
  $("ratio").textContent = reads ? fmtNum(100 * hits / reads) + " %" : "no reads";
  const self = s.members.find((m) => m.name === s.self);
  const sum = self && self.summary;
  if (sum) {
    $("version").textContent = sum.version;
    $("uptime").textContent = fmtDuration(s.time - sum.startedAt);
    $("ready").innerHTML = sum.readiness.ready ? '<span class="ok">ready</span>' : '<span class="bad">not ready: ' + esc(sum.readiness.reason || "") + "</span>";
  }
}

function timeline(s) {
  $("events").innerHTML = s.events.slice().reverse().map((e) => {
    const seen = e.seenBy.length > 1 || e.seenBy[0] !== e.member ? ' <span class="muted">seen by ' + esc(e.seenBy.join(", ")) + "</span>" : "";
    return '<div data-kind="' + esc(e.kind) + '" data-member="' + esc(e.member) + '"><time>' + clock(e.t) + '</time><span class="state ' + esc(e.kind) + '">' +
      esc(e.kind) + "</span> <b>" + esc(e.member) + "</b> " + esc(e.detail || "") + seen + "</div>";
  }).join("") || '<span class="muted">nothing yet</span>';
}

async function poll() {
  try {
    const s = await (await api("/dashboard/state")).json();
    $("error").textContent = "";
    $("self").textContent = s.self;
    members(s); timeline(s); charts(s);
    $("updated").textContent = clock(s.time);
  } catch (e) {
    if (e.message !== "401") $("error").textContent = "node unreachable: " + e.message;
  }
}

async function search() {
  const prefix = $("prefix").value;
  const out = $("key-rows");
  try {
    const page = await (await api("/cache?limit=50&prefix=" + encodeURIComponent(prefix))).json();
    const rows = await Promise.all(page.keys.map(async (k) => {
      const res = await api("/cache/" + encodeURIComponent(k.name), { headers: { "x-cache-meta": "true" } });
      if (res.status !== 200) { await res.body?.cancel(); return null; }
      const size = (await res.arrayBuffer()).byteLength;
      const ttl = res.headers.get("x-ttl-ms");
      const tags = res.headers.get("cache-tag");
      return '<tr data-key="' + esc(k.name) + '"><td class="wrap">' + esc(k.name) + '</td><td class="num">' + (ttl === null ? "never" : fmtDuration(Number(ttl))) +
        '</td><td class="num">' + fmtBytes(size) + '</td><td class="wrap">' + esc(k.metadata ? JSON.stringify(k.metadata) : "") +
        '</td><td class="wrap">' + esc(tags || "") + '</td><td><button class="danger" data-delete="' + esc(k.name) + '">delete</button></td></tr>';
    }));
    out.innerHTML = rows.filter(Boolean).join("") || '<tr><td colspan="6" class="muted">no key starts with that</td></tr>';
    $("key-note").textContent = page.list_complete ? "" : "first 50 keys shown; narrow the prefix";
  } catch (e) {
    if (e.message !== "401") $("key-note").textContent = "search failed: " + e.message;
  }
}
$("search").addEventListener("submit", (e) => { e.preventDefault(); search(); });
$("key-rows").addEventListener("click", async (e) => {
  const button = e.target.closest("button[data-delete]");
  if (!button) return;
  // Two clicks: the first asks, the second deletes (no modal dialog).
  if (button.textContent !== "sure?") { button.textContent = "sure?"; return; }
  const res = await api("/cache/" + encodeURIComponent(button.dataset.delete), { method: "DELETE" }).catch(() => null);
  $("key-note").textContent = res && res.ok ? "deleted " + button.dataset.delete : "delete failed";
  search();
});
poll(); setInterval(poll, 1000);
`;

const CHART = (id: string, title: string, hidden = false) =>
  `<div class="chart" id="${id}"${
    hidden ? " hidden" : ""
  }><div class="head"><span class="muted">${title}</span><b class="last">–</b></div>` +
  `<svg viewBox="0 0 300 90" preserveAspectRatio="none" role="img" aria-label="${title}"></svg></div>`;

/** The dashboard HTML document. */
export function dashboardHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>cachenode dashboard</title><style>${STYLE}</style></head>
<body>
<header><h1>cachenode</h1><span>node <b id="self">…</b></span><span>version <b id="version">–</b></span>
<span>up <b id="uptime">–</b></span><span id="ready">–</span>
<span class="muted">updated <span id="updated">–</span></span><span id="error" class="bad"></span>
<form id="auth"><span id="auth-why" class="bad"></span><input id="token" type="password" placeholder="AUTH_TOKEN" autocomplete="off">
<button>use token</button></form></header>
<main>
<section class="cards">
<div class="card"><span class="muted">members</span><b><span id="n-alive" class="ok">0</span> alive ·
<span id="n-suspect">0</span> suspect · <span id="n-dead">0</span> dead · <span id="n-left">0</span> left</b></div>
<div class="card"><span class="muted">keys (unique)</span><b id="unique">–</b></div>
<div class="card"><span class="muted">copies held (sum)</span><b id="copies">–</b></div>
<div class="card"><span class="muted">memory / MAX_MEMORY</span><b id="memory">–</b></div>
<div class="card"><span class="muted">requests/s (10 s)</span><b id="rate">–</b></div>
<div class="card"><span class="muted">hit ratio (10 s)</span><b id="ratio">–</b></div>
</section>
<section class="charts">
<h2 style="grid-column:1/-1;margin:0">last <span id="span">–</span> <span class="muted">(up to 15 min, every live member)</span></h2>
${CHART("chart-requests", "requests/s")}${CHART("chart-hits", "hit ratio")}
${CHART("chart-memory", "memory vs MAX_MEMORY")}${CHART("chart-lag", "replication lag p99")}
${CHART("chart-edge", "edge hit ratio", true)}
</section>
<table><thead><tr><th>member</th><th>state</th><th>version</th><th>uptime</th><th>readiness</th><th>incarnation</th>
<th>gossip address</th><th>HTTP</th><th>keys</th><th>memory</th></tr></thead><tbody id="rows"></tbody></table>
<section class="panel"><h2>timeline <span class="muted">(every member's last hour, newest first)</span></h2><div id="events"></div></section>
<section class="panel" id="keys-section"><h2>keys</h2>
<form id="search"><input id="prefix" placeholder="key prefix" size="30"> <button>search</button> <span id="key-note" class="muted"></span></form>
<table style="margin-top:8px"><thead><tr><th>key</th><th>TTL</th><th>size</th><th>metadata</th><th>tags</th><th></th></tr></thead>
<tbody id="key-rows"></tbody></table></section>
</main>
<script>${SCRIPT}</script>
</body></html>`;
}
