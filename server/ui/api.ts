/**
 * @module The UI's only way to the server: JSON calls under /v1 with the
 * session cookie (sent by the browser) and the CSRF token on every
 * state-changing call. Errors carry the server's message to show.
 */
import type { BrowsePage, BrowseRepository, StorageView } from "../../lib/registry/browse.ts";
import type { ImageView } from "../../lib/registry/image-view.ts";
import type { UiSession } from "../v1/ui-session.ts";

export type { BrowsePage, BrowseRepository, ImageView, StorageView, UiSession };

/** A failed call: the HTTP status and the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let csrf: string | null = null;

/** Remembers the CSRF token of the current session. */
export function setCsrf(token: string | null): void {
  csrf = token;
}

/** Called when a call answers 401: the session ended. */
let onLoggedOut: () => void = () => {};
export function whenLoggedOut(callback: () => void): void {
  onLoggedOut = callback;
}

/** Calls `path` (under /v1) and returns its JSON (null for 204). */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrf !== null) headers["X-CSRF-Token"] = csrf;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "the registry cannot be reached: check that mcr serve is running, then retry");
  }
  if (res.status === 204) return null as T;
  const data = (await res.json().catch(() => null)) as { error?: unknown } | null;
  if (!res.ok) {
    if (res.status === 401 && !path.endsWith("/ui/login")) onLoggedOut();
    const message = typeof data?.error === "string" ? data.error : `the registry answered ${res.status}`;
    throw new ApiError(res.status, message);
  }
  return data as T;
}

/** `path?k=v&…`, leaving out empty values. */
export function withQuery(path: string, query: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== null && v !== undefined && v !== "") q.set(k, String(v));
  const text = q.toString();
  return text === "" ? path : `${path}?${text}`;
}
