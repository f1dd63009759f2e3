/**
 * @module Content discovery: `GET /v2/_catalog`, repository names in
 * lexical order with `n`/`last` pagination and the `Link` header.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { TestApp } from "../../support/app.ts";
import { pushBlob, pushImage } from "../../support/blobs.ts";
import { expectOciError, recordingApp, serverErrors, type Seen } from "../../support/oci-checks.ts";

const seen: Seen[] = [];
const opened: TestApp[] = [];
afterEach(async () => {
  for (const app of opened.splice(0)) await app.close();
});

/** A fresh registry holding one blob in each of `repos`. */
async function registryWith(repos: string[]): Promise<TestApp> {
  const t = await recordingApp(seen);
  opened.push(t);
  for (const repo of repos) await pushBlob(t, repo, `content of ${repo}`);
  return t;
}

async function catalog(t: TestApp, query = "") {
  const res = await t.request("GET", `/v2/_catalog${query}`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type") ?? "").toStartWith("application/json");
  return { body: (await res.json()) as { repositories: string[] }, link: res.headers.get("link") };
}

/** The path and query a `Link: <...>; rel="next"` header points to. */
function nextOf(link: string | null): string {
  const match = /^<([^>]+)>;\s*rel="next"$/.exec(link ?? "");
  expect(match).not.toBeNull();
  const url = new URL(match?.[1] ?? "", "http://registry.test");
  return url.pathname + url.search;
}

const repos = ["zeta", "alpha/app", "alpha", "library/ubuntu", "b.c/d", "alpha-b", "m/n/o/p"];
const sorted = [...repos].sort();

describe("listing", () => {
  test("an empty registry lists no repositories", async () => {
    const t = await registryWith([]);
    expect(await catalog(t)).toEqual({ body: { repositories: [] }, link: null });
  });

  test("every repository once, lexically sorted", async () => {
    const t = await registryWith(repos);
    await pushImage(t, "zeta", "latest");
    expect(await catalog(t)).toEqual({ body: { repositories: sorted }, link: null });
  });

  test("a repository with only manifests pushed through it appears", async () => {
    const t = await registryWith([]);
    await pushImage(t, "images/one", "v1");
    expect((await catalog(t)).body.repositories).toEqual(["images/one"]);
  });
});

describe("pagination", () => {
  test("n limits the page and Link points to the next one", async () => {
    const t = await registryWith(repos);
    const { body, link } = await catalog(t, "?n=2");
    expect(body.repositories).toEqual(sorted.slice(0, 2));
    expect(nextOf(link)).toBe(`/v2/_catalog?n=2&last=${encodeURIComponent(sorted[1] ?? "")}`);
  });

  test("following Link pages through every repository exactly once, names with slashes included", async () => {
    const t = await registryWith(repos);
    const collected: string[] = [];
    let path: string | null = "/v2/_catalog?n=2";
    let pages = 0;
    while (path !== null) {
      const res = await t.request("GET", path);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { repositories: string[] };
      expect(body.repositories.length).toBeLessThanOrEqual(2);
      collected.push(...body.repositories);
      const link = res.headers.get("link");
      path = link === null ? null : nextOf(link);
      pages += 1;
      expect(pages).toBeLessThan(10);
    }
    expect(collected).toEqual(sorted);
    expect(pages).toBe(Math.ceil(repos.length / 2));
  });

  test("last alone lists what follows it, without a Link", async () => {
    const t = await registryWith(repos);
    const { body, link } = await catalog(t, `?last=${encodeURIComponent("alpha/app")}`);
    expect(body.repositories).toEqual(sorted.slice(sorted.indexOf("alpha/app") + 1));
    expect(link).toBeNull();
  });

  test("n and last together; last past the end gives an empty page", async () => {
    const t = await registryWith(repos);
    expect((await catalog(t, "?n=1&last=alpha")).body.repositories).toEqual(sorted.slice(sorted.indexOf("alpha") + 1, sorted.indexOf("alpha") + 2));
    expect(await catalog(t, "?n=3&last=zzz")).toEqual({ body: { repositories: [] }, link: null });
  });

  test("n at or above the count gives all, and no Link", async () => {
    const t = await registryWith(repos);
    expect(await catalog(t, `?n=${repos.length}`)).toEqual({ body: { repositories: sorted }, link: null });
    expect(await catalog(t, "?n=500")).toEqual({ body: { repositories: sorted }, link: null });
  });

  test("n=0 gives an empty list and no Link", async () => {
    const t = await registryWith(repos);
    expect(await catalog(t, "?n=0")).toEqual({ body: { repositories: [] }, link: null });
  });

  test("invalid n → 400 PAGINATION_NUMBER_INVALID", async () => {
    const t = await registryWith(["one"]);
    for (const n of ["-1", "abc", "2.5", "1e2", "99999999999"]) {
      await expectOciError(await t.request("GET", `/v2/_catalog?n=${encodeURIComponent(n)}`), 400, "PAGINATION_NUMBER_INVALID");
    }
  });
});

describe("errors", () => {
  test("a method the catalog lacks → 405 UNSUPPORTED", async () => {
    const t = await registryWith([]);
    await expectOciError(await t.request("POST", "/v2/_catalog"), 405, "UNSUPPORTED");
    await expectOciError(await t.request("DELETE", "/v2/_catalog"), 405, "UNSUPPORTED");
  });
});

describe("robustness", () => {
  test("no response in this file was a 500", () => {
    expect(seen.length).toBeGreaterThan(40);
    expect(serverErrors(seen)).toEqual([]);
  });
});
