/**
 * A small hand-written SVG line chart (no dependencies): series of (x, y) points with markers,
 * linear or log10 x axis, linear y axis from 0, ticks, grid, axis titles and a legend. Enough
 * for the simulation report; every number on it comes from the results.
 *
 * @module
 */

/** One line of a chart. */
export interface Series {
  /** Legend text. */
  label: string;
  /** Points; `y` undefined leaves a gap. */
  points: { x: number; y: number | undefined }[];
  /** Dashed line (for models and anchors rather than measurements). */
  dashed?: boolean;
}

/** What to draw. */
export interface ChartOptions {
  /** Title above the plot. */
  title: string;
  /** X axis title. */
  xLabel: string;
  /** Y axis title. */
  yLabel: string;
  /** Log10 x axis. @default false */
  logX?: boolean;
  /** Log10 y axis (values must be > 0; zeros are drawn at the bottom). @default false */
  logY?: boolean;
  /** The lines. */
  series: Series[];
}

const W = 780, H = 420;
const PAD = { left: 70, right: 230, top: 40, bottom: 55 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"];

/** Renders the chart as a standalone SVG document. */
export function lineChart(o: ChartOptions): string {
  const xs = o.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = o.series.flatMap((s) => s.points.flatMap((p) => (p.y === undefined ? [] : [p.y])));
  const x = axis(Math.min(...xs), Math.max(...xs), o.logX ?? false, PAD.left, W - PAD.right);
  const yMin = o.logY ? Math.min(...ys.filter((v) => v > 0), 1) : 0;
  const y = axis(yMin, Math.max(...ys, yMin * 10, 1e-9), o.logY ?? false, H - PAD.bottom, PAD.top);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    text(W / 2 - PAD.right / 2 + PAD.left / 2, 22, o.title, "middle", 15),
  ];
  for (const t of x.ticks) {
    out.push(line(x.at(t), PAD.top, x.at(t), H - PAD.bottom, "#eee"));
    out.push(text(x.at(t), H - PAD.bottom + 16, fmt(t), "middle"));
  }
  for (const t of y.ticks) {
    out.push(line(PAD.left, y.at(t), W - PAD.right, y.at(t), "#eee"));
    out.push(text(PAD.left - 6, y.at(t) + 4, fmt(t), "end"));
  }
  out.push(line(PAD.left, H - PAD.bottom, W - PAD.right, H - PAD.bottom, "#333"));
  out.push(line(PAD.left, PAD.top, PAD.left, H - PAD.bottom, "#333"));
  out.push(text((PAD.left + W - PAD.right) / 2, H - 12, o.xLabel, "middle"));
  out.push(
    `<text transform="translate(18 ${
      (PAD.top + H - PAD.bottom) / 2
    }) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`,
  );
  o.series.forEach((s, i) => out.push(...drawSeries(s, COLORS[i % COLORS.length], x, y, i)));
  out.push("</svg>");
  return out.join("\n") + "\n";
}

interface Axis {
  at(v: number): number;
  ticks: number[];
}

function axis(min: number, max: number, log: boolean, from: number, to: number): Axis {
  if (log) {
    const lo = Math.floor(Math.log10(min)), hi = Math.ceil(Math.log10(max));
    const span = Math.max(1, hi - lo);
    const ticks: number[] = [];
    for (let e = lo; e <= hi; e++) for (const m of [1, 3]) ticks.push(m * 10 ** e);
    return {
      at: (v) => from + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / span) * (to - from),
      ticks: ticks.filter((t) => t >= 10 ** lo && t <= 10 ** hi),
    };
  }
  // Linear axes start at 0 (every quantity charted here is >= 0) so ticks fall on round values.
  min = Math.min(0, min);
  const step = niceStep((max - min) / 5);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const ticks: number[] = [];
  for (let t = min; t <= top + step / 2; t += step) ticks.push(Math.round(t * 1e6) / 1e6);
  return { at: (v) => from + ((v - min) / (top - min)) * (to - from), ticks };
}

function niceStep(raw: number): number {
  const e = 10 ** Math.floor(Math.log10(raw || 1));
  const m = raw / e;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * e;
}

function drawSeries(s: Series, color: string, x: Axis, y: Axis, i: number): string[] {
  const out: string[] = [];
  let path = "";
  for (const p of s.points) {
    if (p.y === undefined) {
      path += " ";
      continue;
    }
    const cmd = path === "" || path.endsWith(" ") ? "M" : "L";
    path += `${cmd}${x.at(p.x).toFixed(1)},${y.at(p.y).toFixed(1)}`;
    out.push(
      `<circle cx="${x.at(p.x).toFixed(1)}" cy="${y.at(p.y).toFixed(1)}" r="3" fill="${color}"/>`,
    );
  }
  const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
  out.unshift(
    `<path d="${path.trim()}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`,
  );
  const ly = PAD.top + 10 + i * 20;
  out.push(
    `<line x1="${W - PAD.right + 12}" y1="${ly}" x2="${
      W - PAD.right + 36
    }" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`,
  );
  out.push(text(W - PAD.right + 42, ly + 4, s.label, "start"));
  return out;
}

function line(x1: number, y1: number, x2: number, y2: number, color: string): string {
  return `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${
    y2.toFixed(1)
  }" stroke="${color}"/>`;
}

function text(x: number, y: number, s: string, anchor: string, size = 12): string {
  return `<text x="${x.toFixed(1)}" y="${
    y.toFixed(1)
  }" text-anchor="${anchor}" font-size="${size}">${esc(s)}</text>`;
}

function fmt(v: number): string {
  if (v >= 1000) return `${v / 1000}k`;
  return String(Math.round(v * 1000) / 1000);
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
