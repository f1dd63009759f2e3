/**
 * @module What upstreams say in their headers: challenges as Docker Hub,
 * Distribution and mcr write them, and Retry-After in both of its forms.
 */
import { describe, expect, test } from "bun:test";
import { parseChallenge, parseRetryAfter } from "../../../lib/mirror/www-authenticate.ts";

describe("parseChallenge", () => {
  test("Bearer with quoted parameters, Basic with a realm, odd spacing and escapes", () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"')).toEqual({
      scheme: "bearer",
      params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/alpine:pull" },
    });
    expect(parseChallenge('Basic realm="basic-realm"')).toEqual({ scheme: "basic", params: { realm: "basic-realm" } });
    expect(parseChallenge('bearer  Realm = "a\\"b" , service=bare')).toEqual({ scheme: "bearer", params: { realm: 'a"b', service: "bare" } });
    expect(parseChallenge("")).toBeNull();
    expect(parseChallenge("Negotiate")).toEqual({ scheme: "negotiate", params: {} });
  });
});

describe("parseRetryAfter", () => {
  test("seconds or an HTTP date; nothing readable is null", () => {
    const now = Date.parse("2026-12-06T03:00:00Z");
    expect(parseRetryAfter("30", now)).toBe(30);
    expect(parseRetryAfter("Sun, 06 Dec 2026 03:01:00 GMT", now)).toBe(60);
    expect(parseRetryAfter("Sun, 06 Dec 2026 02:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});
