// Signing in with a local account. The access token is the user's own: the API decides what it
// allows. It is kept in sessionStorage (gone with the tab); the refresh token only in memory,
// to revoke the session on "Sign out".

import { badges, el, notice } from "./dom.js";
import { ApiError, client, json, token } from "./http.js";
import { run } from "./lifecycle.js";

export const session = { auth: null, me: null, refreshToken: null };

export function startSession(auth) {
  session.auth = auth;
  client.onUnauthorized = () => signedOut(true);
}

export function authPath(suffix) {
  return session.auth.prefix + suffix;
}

export function isAdmin() {
  return Boolean(session.me && (session.me.roles || []).includes("admin"));
}

// Shows the current page again, e.g. after signing in or out.
function rerender() {
  window.dispatchEvent(new HashChangeEvent("hashchange"));
}

export function renderSession() {
  const holder = document.getElementById("session");
  if (!session.auth) {
    holder.replaceChildren();
  } else if (!session.me) {
    holder.replaceChildren(el("a", { href: "#users", text: "Sign in" }));
  } else {
    holder.replaceChildren(
      el("span", { id: "signed-in-as", text: `${session.me.email || session.me.id} ` }),
      ...badges(session.me.roles),
      el("button", { id: "sign-out", type: "button", onclick: () => run(signOut), text: "Sign out" }),
    );
  }
}

function signedOut(expired) {
  token.clear();
  session.me = null;
  session.refreshToken = null;
  renderSession();
  if (expired) notice("Your session ended (expired, revoked or banned): sign in again.");
}

async function signOut() {
  const refresh = session.refreshToken;
  if (refresh && session.auth.endpoints.logout) {
    await json(authPath("/logout"), { method: "POST", body: { refresh_token: refresh }, allowError: true });
  }
  signedOut(false);
  rerender();
}

export async function loadMe() {
  if (!token.get() || !session.auth.endpoints.me) return;
  try {
    session.me = (await json(authPath("/me"), { auth: true })).body;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    session.me = null;
  }
  renderSession();
}

export function signInForm() {
  const email = el("input", { type: "email", id: "login-email", name: "email", required: true, autocomplete: "username", placeholder: "email" });
  const password = el("input", { type: "password", id: "login-password", name: "password", required: true, autocomplete: "current-password", placeholder: "password" });
  const form = el("form", { id: "login-form" }, email, password, el("button", { type: "submit", class: "primary", text: "Sign in" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(async () => {
      const { body } = await json(authPath("/login"), {
        method: "POST",
        body: { email: email.value, password: password.value },
      });
      token.set(body.access_token);
      session.refreshToken = body.refresh_token;
      notice("");
      await loadMe();
      rerender();
    });
  });
  return [
    el("h2", { text: "Sign in" }),
    el("p", { class: "muted", text: "With a local account. The console calls the API with your token only: it can do what you can, nothing more." }),
    form,
  ];
}
