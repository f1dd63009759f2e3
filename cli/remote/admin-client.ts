/**
 * @module A client for the /v1 admin API over undici: JSON in and out,
 * the bearer token on every request, and `{"error"}` answers turned back
 * into the same RegistryError a local command would throw, so remote
 * commands print the same messages and exit with the same codes.
 */
import { RegistryError, type ErrorCode } from "../../lib/errors.ts";

const BY_STATUS: Record<number, ErrorCode> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHORIZED",
  403: "DENIED",
  404: "NOT_FOUND",
  405: "UNSUPPORTED",
  409: "CONFLICT",
  429: "TOO_MANY_REQUESTS",
};

/** Calls one registry's /v1 API. */
export class AdminClient {
  constructor(
    readonly server: string,
    private readonly token: string | null,
  ) {}

  /** A client for the same server with another token. */
  withToken(token: string): AdminClient {
    return new AdminClient(this.server, token);
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>("GET", path);
  }
  post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>("POST", path, body);
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>("PATCH", path, body);
  }
  put<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>("PUT", path, body);
  }
  delete(path: string): Promise<void> {
    return this.call<void>("DELETE", path);
  }

  /** Sends one request; resolves with the JSON answer (undefined for 204), throws RegistryError for an error answer. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token !== null) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    // Loaded on first use: local commands never pay for it.
    const { request } = await import("undici");
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(`${this.server}${path}`, { method: method as "GET", headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      throw new Error(`cannot reach ${this.server}: ${(error as Error).message}`);
    }
    const text = await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) return (text === "" ? undefined : JSON.parse(text)) as T;
    let message = `${method} ${path} answered ${res.statusCode}`;
    try {
      const parsed = JSON.parse(text) as { error?: unknown };
      if (typeof parsed.error === "string") message = parsed.error;
    } catch {
      // not JSON: keep the status line
    }
    if (res.statusCode === 401) message += ` (${this.server}: log in again with mcr login, or pass a valid --token)`;
    throw new RegistryError(BY_STATUS[res.statusCode] ?? "CONFLICT", message, { status: res.statusCode });
  }
}
