// The users page: your account, and for admins the admin API — search, view, ban / unban, set
// roles, audit events — each offered only when this app has that endpoint.

import { badges, el, fmt, notice, show, table } from "./dom.js";
import { json } from "./http.js";
import { run } from "./lifecycle.js";
import { authPath, isAdmin, session, signInForm } from "./session.js";

const query = { q: "", offset: 0, limit: 20 };
const AUDIT_FIRST = ["occurred_at", "type", "outcome", "actor_id", "ip", "user_agent", "request_id"];

export async function pageUsers() {
  if (!session.auth) {
    show("users", el("h2", { text: "Users" }), el("p", { class: "muted", text: "The auth plugin is not enabled." }));
    return;
  }
  if (!session.me) {
    show("users", ...signInForm());
    return;
  }
  const me = session.me;
  const intro = [
    el("h2", { text: "Account" }),
    el(
      "dl",
      { class: "fields", id: "me" },
      el("dt", { text: "Email" }), el("dd", { text: fmt(me.email) }),
      el("dt", { text: "Id" }), el("dd", { class: "mono", text: me.id }),
      el("dt", { text: "Roles" }), el("dd", {}, (me.roles || []).length ? badges(me.roles) : "none"),
    ),
  ];
  if (!isAdmin()) {
    show("users", ...intro, el("p", { id: "not-admin", class: "muted", text: "Users admin needs the admin role; the API refuses its actions to this account." }));
    return;
  }
  const detail = el("div", { id: "user-detail" });
  show("users", ...intro, el("h2", { text: "Users" }), await usersList(detail), detail);
}

async function usersList(detail) {
  const endpoints = session.auth.endpoints;
  const holder = el("div", { id: "users-list" });
  const q = el("input", { type: "search", id: "users-q", placeholder: "search email or name", value: query.q });
  const byId = el("input", { type: "text", id: "users-id", placeholder: "user id" });
  const open = el("button", { type: "button", id: "users-open", text: "Open", onclick: () => run(() => showUser(byId.value.trim(), detail)) });
  async function load() {
    if (!endpoints.list_users) {
      holder.replaceChildren(
        el("p", { class: "muted", text: "This faster-auth has no user listing: open a user by id. You:" }),
        usersTable([session.me], detail),
      );
      return;
    }
    const params = new URLSearchParams({ q: query.q, limit: String(query.limit), offset: String(query.offset) });
    const { body } = await json(`${authPath("/admin/users")}?${params}`, { auth: true });
    const turn = (direction) => {
      query.offset = Math.max(0, query.offset + direction * query.limit);
      run(load);
    };
    holder.replaceChildren(
      usersTable(body.items, detail),
      el(
        "div",
        { class: "toolbar" },
        el("button", { type: "button", id: "users-previous", text: "Previous", disabled: query.offset <= 0, onclick: () => turn(-1) }),
        el("button", { type: "button", id: "users-next", text: "Next", disabled: query.offset + query.limit >= body.total, onclick: () => turn(1) }),
        el("span", { id: "users-total", class: "muted", text: `${body.total} users` }),
      ),
    );
  }
  const search = el("form", { id: "users-search" }, q, el("button", { type: "submit", text: "Search" }));
  search.addEventListener("submit", (event) => {
    event.preventDefault();
    query.q = q.value;
    query.offset = 0;
    run(load);
  });
  detail.reloadList = load;
  await load();
  return el("div", {}, endpoints.list_users ? search : null, el("div", { class: "toolbar" }, byId, open), holder);
}

function usersTable(users, detail) {
  return table(
    "users-table",
    [
      ["Email", (u) => fmt(u.email)],
      ["Name", (u) => fmt(u.display_name)],
      ["Status", (u) => el("span", { class: `status-${u.status}`, text: u.status })],
      ["Roles", (u) => badges(u.roles)],
      ["", (u) => el("button", { type: "button", class: "view-user", text: "View", onclick: () => run(() => showUser(u.id, detail)) })],
    ],
    users,
    (u) => u.id,
  );
}

function userActions(user, base, after) {
  const endpoints = session.auth.endpoints;
  const actions = el("div", { class: "toolbar", id: "user-actions" });
  if (user.id === session.me.id) {
    actions.append(el("span", { class: "muted", text: "Nobody changes their own roles or bans themselves." }));
    return actions;
  }
  const banned = user.status === "banned";
  const action = banned ? "unban" : "ban";
  if (endpoints[action]) {
    actions.append(
      el("button", {
        type: "button", id: `user-${action}`, class: banned ? "" : "danger", text: banned ? "Unban" : "Ban",
        onclick: () => run(async () => {
          await json(`${base}/${action}`, { method: "POST", auth: true });
          notice(`${user.email || user.id}: ${banned ? "unbanned" : "banned"}.`, "info");
          await after();
        }),
      }),
    );
  }
  if (endpoints.set_roles) {
    const roles = el("input", { type: "text", id: "user-roles", value: (user.roles || []).join(", "), "aria-label": "roles, comma separated" });
    const save = el("button", {
      type: "button", id: "user-roles-save", text: "Set roles",
      onclick: () => run(async () => {
        const list = roles.value.split(",").map((r) => r.trim()).filter(Boolean);
        await json(`${base}/roles`, { method: "PUT", auth: true, body: { roles: list } });
        notice(`${user.email || user.id}: roles set.`, "info");
        await after();
      }),
    });
    actions.append(roles, save);
  }
  return actions;
}

function auditRank(key) {
  const index = AUDIT_FIRST.indexOf(key);
  return index === -1 ? AUDIT_FIRST.length : index;
}

async function auditEvents(base) {
  const { body } = await json(`${base}/audit`, { auth: true });
  const items = body.items || [];
  // The columns worth reading first, then whatever else the events carry.
  const keys = [...new Set(items.flatMap((item) => Object.keys(item)))]
    .filter((k) => !["id", "user_id"].includes(k))
    .sort((a, b) => auditRank(a) - auditRank(b));
  return [
    el("h2", { text: "Audit events" }),
    el("div", { class: "scroll" }, table("user-audit", keys.map((k) => [k, (item) => fmt(item[k])]), items)),
  ];
}

async function showUser(id, detail) {
  if (!id) return;
  const base = authPath(`/admin/users/${encodeURIComponent(id)}`);
  const { body: user } = await json(base, { auth: true });
  const after = async () => {
    await showUser(id, detail);
    if (detail.reloadList) await detail.reloadList();
  };
  const parts = [
    el("h2", { text: `User ${user.email || user.id}` }),
    el(
      "dl",
      { class: "fields", id: "user-fields" },
      ...Object.entries(user).flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { dataset: { field: k }, text: fmt(v) })]),
    ),
    userActions(user, base, after),
  ];
  if (session.auth.endpoints.audit) parts.push(...(await auditEvents(base)));
  detail.replaceChildren(el("div", { class: "panel" }, ...parts));
}
