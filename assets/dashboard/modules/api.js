// The API, as the page calls it: relative URLs (the page works behind a path prefix), the
// bearer token of this tab, and errors that say what the server said.

import { t } from "./i18n.js";

const TOKEN_KEY = "postcall.dashboard.token";

export class AuthError extends Error {}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  forget: () => sessionStorage.removeItem(TOKEN_KEY),
};

async function call(path, init) {
  const headers = { Accept: "application/json", ...(init.headers || {}) };
  const bearer = token.get();
  if (bearer) headers.Authorization = "Bearer " + bearer;
  let res;
  try {
    res = await fetch(path, { ...init, headers, cache: "no-store" });
  } catch (e) {
    throw new ApiError(0, t("networkError"));
  }
  if (res.status === 401) throw new AuthError();
  if (!res.ok) throw new ApiError(res.status, await errorText(res));
  return res;
}

// GET `path` with the query `params` (empty values left out); the JSON and the response.
export async function get(path, params) {
  const query = new URLSearchParams(
    Object.entries(params || {}).filter(([, v]) => v !== undefined && v !== null && v !== "")
  );
  const qs = query.toString();
  const res = await call(qs ? `${path}?${qs}` : path, { method: "GET" });
  return { body: await res.json(), res };
}

export async function post(path, body) {
  const res = await call(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return res.json();
}

// The API answers errors in plain text ("conflict: …"); a JSON body with a message is read too.
async function errorText(res) {
  const body = (await res.text()).trim();
  try {
    const json = JSON.parse(body);
    return String(json.error || json.message || body).slice(0, 500);
  } catch (e) {
    return (body || res.statusText).slice(0, 500);
  }
}
