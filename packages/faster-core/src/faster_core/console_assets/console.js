// The Faster developer console: plain DOM, no framework, no third-party code. Everything shown
// comes from the app's own endpoints; this module holds the pages over `/-/*` and `/health`,
// and the navigation between pages.

import { badges, el, fmt, number, show, table } from "./dom.js";
import { client, json } from "./http.js";
import { every, run, stop } from "./lifecycle.js";
import { pageMetrics } from "./metrics.js";
import { loadMe, renderSession, startSession } from "./session.js";
import { pageUsers } from "./users.js";

let overview = null;

async function pagePlugins() {
  const { body } = await json("/-/plugins");
  show(
    "plugins",
    el("h2", { text: "Plugins" }),
    table(
      "plugins-table",
      [
        ["Order", (p) => fmt(p.order), "num"],
        ["Name", (p) => el("strong", { text: p.name })],
        ["Version", (p) => fmt(p.version)],
        ["State", (p) => el("span", { class: `status-${p.state}`, text: p.state })],
        ["Source", (p) => p.source],
        ["Requires", (p) => badges(p.requires)],
        ["Hooks", (p) => badges(p.hooks)],
      ],
      body,
      (p) => p.name,
    ),
  );
}

function checksTable(checks) {
  return table(
    "health-table",
    [
      ["Check", (c) => el("strong", { text: c.name })],
      ["Status", (c) => el("span", { class: `status-${c.status}`, text: c.status })],
      ["Latency ms", (c) => number(c.latency_ms, 1), "num"],
      ["Critical", (c) => (c.critical ? "yes" : "no")],
      ["Degraded", (c) => (c.degraded ? "yes" : "no")],
      ["Detail", (c) => fmt(c.detail)],
    ],
    checks,
    (c) => c.name,
  );
}

async function pageHealth() {
  const path = overview.health;
  if (!path) {
    show("health", el("h2", { text: "Health" }), el("p", { class: "muted", text: "The health plugin is disabled." }));
    return;
  }
  const auto = el("input", { type: "checkbox", id: "health-auto", checked: true });
  const stamp = el("span", { id: "health-updated", class: "muted" });
  const overall = el("strong", { id: "health-status" });
  const holder = el("div");
  async function refresh() {
    // A failing critical check answers 503 with the same checks in the problem body.
    const { body } = await json(path, { allowError: true });
    const status = body.status || body.status_summary || "fail";
    overall.textContent = status;
    overall.className = `status-${status}`;
    holder.replaceChildren(checksTable(body.checks || []));
    stamp.textContent = `updated ${new Date().toLocaleTimeString()}`;
  }
  show(
    "health",
    el("h2", { text: "Health" }),
    el(
      "div",
      { class: "toolbar" },
      el("span", {}, "Overall: ", overall),
      el("label", {}, auto, " auto-refresh every 5 s"),
      stamp,
    ),
    holder,
  );
  await refresh();
  every(() => (auto.checked ? refresh() : undefined));
}

async function pageRoutes() {
  const { body } = await json("/-/routes");
  const none = { auth: "none", roles: [], rate_limit: null, cache: null };
  show(
    "routes",
    el("h2", { text: "Routes" }),
    table(
      "routes-table",
      [
        ["Methods", (r) => badges(r.methods)],
        ["Path", (r) => r.path, "mono"],
        ["Name", (r) => fmt(r.name)],
        ["Auth", (r) => el("span", { class: r.policy.auth === "none" ? "muted" : "", text: r.policy.auth })],
        ["Roles", (r) => badges(r.policy.roles)],
        ["Rate limit", (r) => fmt(r.policy.rate_limit)],
        ["Cache", (r) => fmt(r.policy.cache)],
      ],
      body.map((r) => ({ ...r, policy: r.policy || none })),
      (r) => `${r.methods.join(",")} ${r.path}`,
    ),
  );
}

function settingsTable(id, values) {
  return table(
    id,
    [
      ["Setting", (e) => e[0], "mono"],
      ["Value", (e) => fmt(e[1]), "mono"],
    ],
    Object.entries(values || {}),
    (e) => e[0],
  );
}

async function pageSettings() {
  const { body } = await json("/-/settings");
  const sections = [el("h2", { text: "Core settings" }), settingsTable("settings-core", body.core)];
  for (const [name, values] of Object.entries(body.plugins)) {
    sections.push(el("h2", { text: `Plugin ${name}` }), settingsTable(`settings-${name}`, values));
  }
  sections.push(el("p", { class: "muted", text: "Secrets and secret-named values are redacted by the server." }));
  show("settings", ...sections);
}

const PAGES = {
  plugins: pagePlugins,
  health: pageHealth,
  routes: pageRoutes,
  settings: pageSettings,
  metrics: () => pageMetrics(overview),
  users: pageUsers,
};

function route() {
  stop();
  let name = location.hash.replace(/^#/, "") || "plugins";
  if (!(name in PAGES) || (name === "users" && !overview.auth)) name = "plugins";
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.page === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.body.dataset.page = name;
  document.body.dataset.ready = "false";
  run(PAGES[name]).finally(() => {
    document.body.dataset.ready = "true";
  });
}

async function start() {
  const response = await fetch("console/api/overview", { headers: { Accept: "application/json" }, cache: "no-store" });
  overview = await response.json();
  client.root = overview.root_path;
  document.getElementById("app-meta").textContent = `${overview.title} · ${overview.env} · faster-core ${overview.version}`;
  document.querySelector('#nav a[data-page="users"]').hidden = !overview.auth;
  if (overview.auth) {
    startSession(overview.auth);
    await loadMe();
  }
  renderSession();
  window.addEventListener("hashchange", route);
  route();
}

start();
