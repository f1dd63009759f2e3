/**
 * @module Requests to one upstream registry over undici: the Docker token
 * flow (anonymous or with credentials) and Basic auth, tokens reused until
 * they expire, redirects to blob storage followed (credentials are not
 * carried to another origin), a bound on requests at once, and a pause
 * after a 429 for as long as its Retry-After asks, during which no request
 * is sent at all.
 */
// The package itself, not Bun's built-in "undici" stand-in (which lacks dispatchers, interceptors and TLS options).
import { Agent, interceptors, type Dispatcher } from "undici/index.js";
import type { UpstreamConfig } from "./upstream-config.ts";
import { parseChallenge, parseRetryAfter } from "./www-authenticate.ts";

/** Why an upstream could not answer: the cache may then serve what it has. */
/** An upstream that did not answer usefully; `retryAfter` in seconds when it asked for a pause. */
export class UpstreamError extends Error {
  constructor(
    message: string,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = "UpstreamError";
  }
}

/** An upstream's answer; `body` must be read or dumped so the connection and slot are freed. */
export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: Dispatcher.ResponseData["body"];
}

const TOKEN_MARGIN_MS = 10_000;
const DEFAULT_TOKEN_TTL_S = 60;
const MAX_PAUSE_S = 3600;
const MAX_TOKENS = 1000;
/** How long an upstream that could not be reached is not asked again. */
const DOWN_FOR_MS = 10_000;

/** A client of one upstream, shared by every request of the process. */
export class UpstreamClient {
  private readonly dispatcher: Dispatcher;
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();
  /** Learned from the first 401: how this upstream wants credentials. */
  private scheme: "bearer" | "basic" | null = null;
  private pausedUntil = 0;
  /** Until when the upstream counts as unreachable (after a connection failure or timeout), and why. */
  private downUntil = 0;
  private downReason = "";
  private active = 0;
  private readonly queue: (() => void)[] = [];
  /** Requests sent to the upstream's token endpoint (for tests and metrics). */
  tokenRequests = 0;

  constructor(
    readonly config: UpstreamConfig,
    private readonly now: () => number = Date.now,
  ) {
    const agent = new Agent({
      connect: { timeout: config.timeoutMs, ...(config.tlsCa ? { ca: config.tlsCa } : {}) },
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs,
    });
    this.dispatcher = agent.compose(interceptors.redirect({ maxRedirections: 5 }));
  }

  /**
   * Sends `method` to `/v2/<path>` on behalf of repository `repository`
   * (the token's scope). Answers other than 5xx and 429 are returned,
   * 401 after credentials were tried; throws UpstreamError otherwise.
   */
  async request(method: "GET" | "HEAD", repository: string, path: string, headers: Record<string, string> = {}): Promise<UpstreamResponse> {
    const wait = Math.ceil((this.pausedUntil - this.now()) / 1000);
    if (wait > 0) throw new UpstreamError(`${this.config.name} asked for a pause (429); retry in ${wait}s`, wait);
    // A black-holed upstream costs a full timeout per request; for a while after one, cached tags are served stale at once.
    const down = Math.ceil((this.downUntil - this.now()) / 1000);
    if (down > 0) throw new UpstreamError(`${this.downReason} (not retried for ${down}s)`, down);
    await this.acquire();
    let released = false;
    const release = () => {
      if (!released) (released = true), this.release();
    };
    try {
      const scope = `repository:${repository}:pull`;
      let res = await this.send(method, path, { ...headers, ...this.authorization(scope) });
      if (res.status === 401) {
        const auth = await this.answerChallenge(res.headers["www-authenticate"] ?? "", scope);
        if (auth) {
          await res.body.dump();
          res = await this.send(method, path, { ...headers, ...auth });
        }
      }
      if (res.status === 429) {
        await res.body.dump().catch(() => {});
        const after = Math.min(parseRetryAfter(res.headers["retry-after"], this.now()) ?? 10, MAX_PAUSE_S);
        this.pausedUntil = this.now() + after * 1000;
        throw new UpstreamError(`${this.config.name} answered 429 Too Many Requests; retry in ${after}s`, after);
      }
      if (res.status >= 500) {
        await res.body.dump().catch(() => {});
        throw new UpstreamError(`${this.config.name} answered ${res.status}`);
      }
      res.body.once("close", release);
      res.body.once("error", release);
      if (res.body.destroyed || res.body.readableEnded) release();
      return res;
    } catch (error) {
      release();
      throw error;
    }
  }

  /** Closes idle connections. */
  async close(): Promise<void> {
    await this.dispatcher.close().catch(() => {});
  }

  private async send(method: string, path: string, headers: Record<string, string>, url?: string): Promise<UpstreamResponse> {
    try {
      const res = await this.dispatcher.request({ ...target(url ?? `${this.config.url}/v2/${path}`), method: method as "GET", headers });
      return { status: res.statusCode, headers: flatHeaders(res.headers), body: res.body };
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).message;
      this.downReason = `${this.config.name} (${this.config.url}) is unreachable: ${code}`;
      this.downUntil = this.now() + DOWN_FOR_MS;
      throw new UpstreamError(this.downReason);
    }
  }

  private authorization(scope: string): Record<string, string> {
    const cached = this.tokens.get(scope);
    if (cached && cached.expiresAt > this.now()) return { authorization: `Bearer ${cached.token}` };
    if (this.scheme === "basic" && this.config.username !== null) return { authorization: basic(this.config) };
    return {};
  }

  /** The Authorization header a 401's challenge asks for, or null when there is nothing to offer. */
  private async answerChallenge(header: string, scope: string): Promise<Record<string, string> | null> {
    const challenge = parseChallenge(header);
    if (challenge?.scheme === "basic") {
      this.scheme = "basic";
      return this.config.username === null ? null : { authorization: basic(this.config) };
    }
    if (challenge?.scheme !== "bearer" || !challenge.params.realm) return null;
    this.scheme = "bearer";
    const realm = new URL(challenge.params.realm);
    if (challenge.params.service) realm.searchParams.set("service", challenge.params.service);
    realm.searchParams.set("scope", scope);
    const headers: Record<string, string> = this.config.username === null ? {} : { authorization: basic(this.config) };
    this.tokenRequests++;
    const res = await this.send("GET", "", headers, realm.href);
    if (res.status !== 200) {
      await res.body.dump().catch(() => {});
      if (res.status === 429 || res.status >= 500) throw new UpstreamError(`${this.config.name}'s token endpoint answered ${res.status}`);
      return null;
    }
    const body = (await res.body.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown; expires_in?: unknown };
    const token = typeof body.token === "string" ? body.token : typeof body.access_token === "string" ? body.access_token : null;
    if (token === null) throw new UpstreamError(`${this.config.name}'s token endpoint sent no token`);
    const ttl = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_TTL_S;
    // One token per repository pulled; the oldest go first past a bound.
    if (this.tokens.size >= MAX_TOKENS) this.tokens.delete(this.tokens.keys().next().value!);
    this.tokens.set(scope, { token, expiresAt: this.now() + ttl * 1000 - TOKEN_MARGIN_MS });
    return { authorization: `Bearer ${token}` };
  }

  private async acquire(): Promise<void> {
    if (this.active < this.config.maxConcurrent) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.active--;
  }
}

function basic(config: UpstreamConfig): string {
  return `Basic ${Buffer.from(`${config.username}:${config.password}`).toString("base64")}`;
}

function target(href: string): { origin: string; path: string } {
  const url = new URL(href);
  return { origin: url.origin, path: url.pathname + url.search };
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) if (value !== undefined) out[key.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  return out;
}
