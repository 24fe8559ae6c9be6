// The metrics page: Prometheus text exposition parsed here, request rates and latencies per route,
// and a requests-per-second chart drawn as SVG.

import { el, number, show, svg, table } from "./dom.js";
import { ApiError, request } from "./http.js";
import { every } from "./lifecycle.js";

const HISTORY = 60; // chart points: 5 minutes at one scrape every 5 s
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const scrapes = { history: [], last: null };

function parseValue(text) {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  return Number(text);
}

// Prometheus text exposition -> [{name, labels, value}]
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const labels = {};
    for (const [, key, raw] of (match[2] || "").matchAll(LABEL)) {
      labels[key] = raw.replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    }
    samples.push({ name: match[1], labels, value: parseValue(match[3]) });
  }
  return samples;
}

// The q-quantile estimated from cumulative histogram buckets (linear inside a bucket).
export function quantile(buckets, count, q) {
  if (!count) return null;
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const rank = q * count;
  let previousLe = 0;
  let previousCount = 0;
  for (const [le, cumulative] of sorted) {
    if (cumulative >= rank) {
      if (le === Infinity) return previousLe;
      const inBucket = cumulative - previousCount;
      const share = inBucket ? (rank - previousCount) / inBucket : 1;
      return previousLe + (le - previousLe) * share;
    }
    previousLe = le;
    previousCount = cumulative;
  }
  return previousLe;
}

// Per (method, route): requests, 5xx, latency sum/count and buckets, summed over status classes.
export function httpSeries(samples) {
  const series = new Map();
  const entry = (labels) => {
    const key = `${labels.method} ${labels.route}`;
    if (!series.has(key)) {
      series.set(key, {
        key, method: labels.method, route: labels.route,
        requests: 0, errors: 0, sum: 0, count: 0, buckets: new Map(),
      });
    }
    return series.get(key);
  };
  for (const s of samples) {
    if (s.name === "http_requests_total") {
      const e = entry(s.labels);
      e.requests += s.value;
      if (s.labels.status_class === "5xx") e.errors += s.value;
    } else if (s.name === "http_request_duration_seconds_sum") {
      entry(s.labels).sum += s.value;
    } else if (s.name === "http_request_duration_seconds_count") {
      entry(s.labels).count += s.value;
    } else if (s.name === "http_request_duration_seconds_bucket") {
      const e = entry(s.labels);
      const le = parseValue(s.labels.le);
      e.buckets.set(le, (e.buckets.get(le) || 0) + s.value);
    }
  }
  return [...series.values()].sort((a, b) => b.requests - a.requests);
}

function drawChart(points) {
  const width = 720;
  const height = 160;
  const pad = 28;
  const chart = svg("svg", { class: "chart", id: "metrics-chart", viewBox: `0 0 ${width} ${height}`, role: "img" });
  const title = svg("title");
  title.textContent = "Requests per second, last 5 minutes";
  chart.append(title);
  chart.append(svg("line", { class: "axis", x1: pad, y1: height - pad, x2: width - 4, y2: height - pad }));
  chart.append(svg("line", { class: "axis", x1: pad, y1: 4, x2: pad, y2: height - pad }));
  const top = Math.max(1, ...points.map((p) => p.rate));
  for (const [y, text] of [[12, number(top, 1)], [height - pad, "0"]]) {
    const label = svg("text", { x: 2, y });
    label.textContent = text;
    chart.append(label);
  }
  if (points.length > 1) {
    const step = (width - pad - 8) / (HISTORY - 1);
    const start = pad + (HISTORY - points.length) * step;
    const coords = points.map((p, i) => {
      const x = start + i * step;
      const y = height - pad - (p.rate / top) * (height - pad - 8);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    chart.append(svg("polyline", { class: "line", points: coords.join(" ") }));
  }
  return chart;
}

function metricsTables(series, samples, rates) {
  const routes = table(
    "metrics-table",
    [
      ["Method", (s) => s.method],
      ["Route", (s) => s.route, "mono"],
      ["Requests", (s) => String(s.requests), "num"],
      ["Req/s", (s) => number(rates.get(s.key), 2), "num"],
      ["5xx", (s) => String(s.errors), "num"],
      ["Mean ms", (s) => number(s.count ? (s.sum / s.count) * 1000 : null, 1), "num"],
      ["p95 ms", (s) => number(s.count ? quantile(s.buckets, s.count, 0.95) * 1000 : null, 1), "num"],
    ],
    series,
    (s) => s.key,
  );
  const others = samples.filter(
    (s) => !s.name.startsWith("http_request") && !s.name.endsWith("_created") && !s.name.endsWith("_bucket"),
  );
  const other = table(
    "metrics-other",
    [
      ["Metric", (s) => s.name, "mono"],
      ["Labels", (s) => Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(" "), "mono"],
      ["Value", (s) => String(s.value), "num"],
    ],
    others.slice(0, 300),
  );
  return [el("h2", { text: "HTTP by route" }), routes, el("h2", { text: "Other metrics" }), other];
}

// Rates per route since the previous scrape, and the history the chart draws.
function rateSince(series) {
  const now = performance.now();
  const rates = new Map();
  const sum = series.reduce((acc, s) => acc + s.requests, 0);
  const last = scrapes.last;
  if (last) {
    const seconds = (now - last.at) / 1000;
    for (const s of series) rates.set(s.key, (s.requests - (last.counts.get(s.key) || 0)) / seconds);
    scrapes.history.push({ rate: Math.max(0, (sum - last.sum) / seconds) });
    scrapes.history = scrapes.history.slice(-HISTORY);
  }
  scrapes.last = { at: now, sum, counts: new Map(series.map((s) => [s.key, s.requests])) };
  return { rates, sum };
}

function off(text) {
  show("metrics", el("h2", { text: "Metrics" }), el("p", { id: "metrics-off", class: "muted", text }));
}

export async function pageMetrics(overview) {
  const metrics = overview.metrics;
  if (!metrics) {
    off("Metrics not enabled: the observability plugin does not serve a metrics endpoint in this app.");
    return;
  }
  if (metrics.token_required) {
    off(`Metrics at ${metrics.path} need a bearer token; the console does not hold it.`);
    return;
  }
  const holder = el("div");
  const total = el("strong", { id: "metrics-total" });
  show(
    "metrics",
    el("h2", { text: "Metrics" }),
    el("p", {}, "Requests answered: ", total, el("span", { class: "muted", text: " (refreshes every 5 s)" })),
    holder,
  );
  async function refresh() {
    const response = await request(metrics.path);
    if (!response.ok) throw new ApiError(response.status, null);
    const samples = parseMetrics(await response.text());
    const series = httpSeries(samples);
    const { rates, sum } = rateSince(series);
    total.textContent = String(sum);
    holder.replaceChildren(
      el("h2", { text: "Requests per second" }),
      drawChart(scrapes.history),
      ...metricsTables(series, samples, rates),
    );
  }
  await refresh();
  every(refresh);
}
