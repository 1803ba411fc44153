// The API client: JSON in and out, the session's CSRF token on every
// request that changes something, errors as ApiError with the server's
// stable code and its human message.
let csrf = "";

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export function setCSRF(token) { csrf = token || ""; }

export async function api(method, path, body, opts = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrf;
  let payload;
  if (body instanceof Blob) {
    payload = body;
    headers["Content-Type"] = body.type || "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: "same-origin", keepalive: opts.keepalive });
  } catch (e) {
    throw new ApiError(0, "network", "No connection to the server. Check your network.");
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const err = (data && data.error) || {};
    throw new ApiError(res.status, err.code || "http_" + res.status, err.message || "The server answered " + res.status, err.field);
  }
  return data;
}
