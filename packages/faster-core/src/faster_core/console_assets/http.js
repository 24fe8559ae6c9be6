// Calls to the app's own endpoints. The only credential ever sent is the signed-in user's access
// token, and only on calls that ask for it; cookies are never sent.

const TOKEN_KEY = "faster-console-access-token";

export const client = {
  root: "", // the app's root_path
  onUnauthorized: () => {}, // a call made with the token was answered 401
};

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

// The access token lives in sessionStorage: it survives a reload, not the tab.
export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export async function request(path, options) {
  const opts = options || {};
  const headers = { Accept: "application/json, application/problem+json" };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  const bearer = token.get();
  if (opts.auth && bearer) headers.Authorization = `Bearer ${bearer}`;
  return fetch(client.root + path, {
    method: opts.method || "GET",
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    credentials: "omit",
    cache: "no-store",
  });
}

// The JSON (or text) body; an error status throws ApiError with the problem details, unless
// `allowError` asks for the body anyway.
export async function json(path, options) {
  const opts = options || {};
  const response = await request(path, opts);
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok && !opts.allowError) {
    if (response.status === 401 && opts.auth) client.onUnauthorized();
    throw new ApiError(response.status, typeof body === "object" ? body : null);
  }
  return { status: response.status, body };
}
