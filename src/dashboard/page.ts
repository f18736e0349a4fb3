/**
 * The dashboard page served at `GET /`: one self-contained HTML document (inline CSS and a small
 * script, no framework, no CDN, no build step) that polls `/dashboard/state` every second and
 * shows the cluster as this node sees it, each member's keys, bytes and request rate, the edge
 * cache's hit ratio over the cluster (answered from the cache ÷ cacheable requests), and a
 * timeline of state changes (a killed node turns suspect, then dead).
 *
 * @module
 */

const STYLE = `
:root { --fg:#1d2330; --muted:#6b7280; --line:#e5e7eb; --bg:#f8fafc; --card:#fff;
  --alive:#15803d; --suspect:#b45309; --dead:#b91c1c; --left:#4b5563; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif; color:var(--fg); background:var(--bg); }
header { padding:16px 24px; background:var(--card); border-bottom:1px solid var(--line); display:flex; gap:24px; align-items:baseline; flex-wrap:wrap; }
h1 { font-size:18px; margin:0; }
.muted { color:var(--muted); }
main { padding:20px 24px; display:grid; gap:20px; }
.cards { display:flex; gap:12px; flex-wrap:wrap; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px 14px; min-width:130px; }
.card b { display:block; font-size:20px; }
table { width:100%; border-collapse:collapse; background:var(--card); border:1px solid var(--line); border-radius:8px; overflow:hidden; }
th, td { text-align:left; padding:8px 12px; border-bottom:1px solid var(--line); white-space:nowrap; }
th { font-size:12px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); background:#f1f5f9; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
.state { display:inline-block; padding:1px 8px; border-radius:999px; font-size:12px; font-weight:600; color:#fff; }
.state.alive { background:var(--alive); } .state.suspect { background:var(--suspect); }
.state.dead { background:var(--dead); } .state.left { background:var(--left); }
tr.self td:first-child::after { content:" (this node)"; color:var(--muted); font-weight:normal; }
#events { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px 14px; max-height:220px; overflow:auto; font-family:ui-monospace,monospace; font-size:12px; }
#error { color:var(--dead); }
`;

const SCRIPT = `
const prev = new Map(); let last = null;
const fmt = (n) => n >= 1048576 ? (n / 1048576).toFixed(1) + " MiB" : n >= 1024 ? (n / 1024).toFixed(1) + " KiB" : n + " B";
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
function logEvent(text) {
  const el = document.getElementById("events");
  const line = document.createElement("div");
  line.textContent = new Date().toLocaleTimeString() + "  " + text;
  el.prepend(line);
}
async function poll() {
  try {
    const res = await fetch("/dashboard/state", { cache: "no-store" });
    const s = await res.json();
    document.getElementById("error").textContent = "";
    document.getElementById("self").textContent = s.self;
    const counts = { alive: 0, suspect: 0, dead: 0, left: 0 };
    let keys = 0, bytes = 0, rate = 0, edgeHits = 0, edgeLookups = 0;
    const rows = s.members.map((m) => {
      counts[m.state]++;
      const before = prev.get(m.name);
      if (before && before.state !== m.state) logEvent(m.name + ": " + before.state + " → " + m.state);
      if (!before && last) logEvent(m.name + ": joined as " + m.state);
      let r = "";
      if (m.stats) {
        keys += m.stats.keys; bytes += m.stats.bytes;
        edgeHits += m.stats.edgeHits || 0; edgeLookups += m.stats.edgeLookups || 0;
        if (before && before.stats && last) {
          const perSec = Math.max(0, (m.stats.requests - before.stats.requests) / ((s.time - last) / 1000));
          rate += perSec; r = perSec.toFixed(1);
        }
      }
      prev.set(m.name, m);
      const link = m.url ? '<a href="' + esc(m.url) + '/">' + esc(m.url) + "</a>" : "";
      return '<tr data-member="' + esc(m.name) + '" class="' + (m.name === s.self ? "self" : "") + '">' +
        "<td>" + esc(m.name) + '</td><td><span class="state ' + esc(m.state) + '">' + esc(m.state) + "</span></td>" +
        '<td class="num">' + m.incarnation + "</td><td>" + esc(m.addr) + ":" + m.port + "</td><td>" + link + "</td>" +
        '<td class="num">' + (m.stats ? m.stats.keys : "–") + '</td><td class="num">' + (m.stats ? fmt(m.stats.bytes) : "–") +
        '</td><td class="num">' + (r || "–") + "</td></tr>";
    });
    last = s.time;
    document.getElementById("rows").innerHTML = rows.join("");
    for (const k of Object.keys(counts)) document.getElementById("n-" + k).textContent = counts[k];
    document.getElementById("keys").textContent = keys;
    document.getElementById("bytes").textContent = fmt(bytes);
    document.getElementById("rate").textContent = rate.toFixed(1);
    document.getElementById("edge-ratio").textContent =
      edgeLookups > 0 ? (100 * edgeHits / edgeLookups).toFixed(1) + " %" : "–";
    document.getElementById("updated").textContent = new Date(s.time).toLocaleTimeString();
  } catch (e) {
    document.getElementById("error").textContent = "node unreachable: " + e.message;
  }
}
poll(); setInterval(poll, 1000);
`;

/** The dashboard HTML document. */
export function dashboardHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>cachenode dashboard</title><style>${STYLE}</style></head>
<body>
<header><h1>cachenode</h1><span>node <b id="self">…</b></span>
<span class="muted">updated <span id="updated">–</span></span><span id="error"></span></header>
<main>
<section class="cards">
<div class="card"><span class="muted">alive</span><b id="n-alive">0</b></div>
<div class="card"><span class="muted">suspect</span><b id="n-suspect">0</b></div>
<div class="card"><span class="muted">dead</span><b id="n-dead">0</b></div>
<div class="card"><span class="muted">left</span><b id="n-left">0</b></div>
<div class="card"><span class="muted">keys (sum)</span><b id="keys">0</b></div>
<div class="card"><span class="muted">bytes (sum)</span><b id="bytes">0</b></div>
<div class="card"><span class="muted">requests/s</span><b id="rate">0</b></div>
<div class="card"><span class="muted">edge hit ratio</span><b id="edge-ratio">–</b></div>
</section>
<table><thead><tr><th>member</th><th>state</th><th>incarnation</th><th>gossip address</th><th>HTTP</th>
<th>keys</th><th>bytes</th><th>req/s</th></tr></thead><tbody id="rows"></tbody></table>
<section><h2 style="font-size:14px;margin:0 0 6px">state changes</h2><div id="events"></div></section>
</main>
<script>${SCRIPT}</script>
</body></html>`;
}
