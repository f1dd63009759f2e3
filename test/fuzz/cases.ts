/**
 * @module The fuzz case generator: case `i` of seed `s` is a pure function
 * of (s, i), so any failure is replayed from the two numbers. Every route
 * of /v2, the token endpoint and /v1 is covered, with hostile names,
 * references, ids, ranges, lengths, headers, bodies and request lines.
 */
import { mix, Rng } from "../support/random.ts";
import {
  hostileAuthorizations,
  hostileContentLengths,
  hostileContentRanges,
  hostileDigests,
  hostileHeaderValues,
  hostileNames,
  hostilePaging,
  hostileRanges,
  hostileTags,
  hostileUploadIds,
  mutate,
} from "./atoms.ts";
import { hostileForm, hostileJson, hostileManifest, hostileToml, type ManifestParts } from "./bodies.ts";

/** What the cases may refer to: content and sessions set up before the run. */
export interface Fixture extends ManifestParts {
  repo: string;
  tag: string;
  /** Upload sessions opened for the run. */
  sessions: string[];
  /** The admin's `Authorization` value (an access token, which login throttling never slows). */
  auth: string;
}

/** One request, exactly as it goes on the wire. */
export interface FuzzCase {
  index: number;
  label: string;
  method: string;
  target: string;
  headers: [string, string][];
  body: Uint8Array | null;
  /** Replaces the Content-Length the body implies; null sends none. */
  contentLength?: string | null;
  /** Bytes written as-is instead of a request built from the fields above. */
  raw?: Uint8Array;
  /** The server may rightly wait for bytes that never come (a body shorter than declared). */
  mayWait?: boolean;
}

const enc = new TextEncoder();
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND", "get", "FOO", "M".repeat(100)];

type Draft = Omit<FuzzCase, "index" | "label" | "headers"> & { label: string; headers?: [string, string][]; auth?: "admin" | "none" | string };
type Generator = (rng: Rng, fx: Fixture) => Draft;

function resourcePath(rng: Rng, fx: Fixture, name: string): string {
  const digest = rng.pick(hostileDigests([fx.config.digest, fx.manifestDigest]));
  const suffix = rng.pick([
    `blobs/${digest}`,
    "blobs/uploads/",
    `blobs/uploads/${rng.pick(hostileUploadIds(fx.sessions))}`,
    `manifests/${rng.pick([fx.tag, fx.manifestDigest, ...hostileTags])}`,
    "tags/list",
    `referrers/${digest}`,
  ]);
  return `/v2/${name}/${suffix}`;
}

const generators: [weight: number, name: string, gen: Generator][] = [
  [8, "name", (rng, fx) => ({ label: "hostile repository name", method: rng.pick(METHODS.slice(0, 6)), target: resourcePath(rng, fx, rng.chance(0.2) ? mutate(rng, fx.repo) : rng.pick(hostileNames)), body: rng.chance(0.3) ? rng.bytes(rng.int(0, 64)) : null })],
  [6, "digest", (rng, fx) => {
    const digest = rng.pick(hostileDigests([fx.config.digest, fx.layers[0]!.digest, fx.manifestDigest]));
    const target = `/v2/${fx.repo}/${rng.pick(["blobs", "manifests", "referrers"])}/${rng.chance(0.2) ? mutate(rng, digest) : digest}`;
    return { label: "hostile digest", method: rng.pick(["GET", "HEAD", "DELETE", "PUT"]), target, body: null };
  }],
  [4, "tag", (rng, fx) => {
    const tag = rng.chance(0.3) ? mutate(rng, fx.tag) : rng.pick(hostileTags);
    const method = rng.pick(["GET", "HEAD", "PUT", "DELETE"]);
    const body = method === "PUT" ? enc.encode(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: fx.config, layers: fx.layers })) : null;
    return { label: "hostile tag", method, target: `/v2/${fx.repo}/manifests/${tag}`, body, headers: [["Content-Type", "application/vnd.oci.image.manifest.v1+json"]] };
  }],
  [6, "upload-id", (rng, fx) => {
    const id = rng.pick(hostileUploadIds(fx.sessions));
    const method = rng.pick(["GET", "PATCH", "PUT", "DELETE"]);
    const query = method === "PUT" ? `?digest=${rng.pick(hostileDigests([fx.config.digest]))}` : "";
    return { label: "hostile upload id", method, target: `/v2/${fx.repo}/blobs/uploads/${rng.chance(0.2) ? mutate(rng, id) : id}${query}`, body: method === "PATCH" || method === "PUT" ? rng.bytes(rng.int(0, 2048)) : null };
  }],
  [6, "content-range", (rng, fx) => {
    const body = rng.bytes(rng.int(0, 4096));
    const headers: [string, string][] = [["Content-Range", rng.pick(hostileContentRanges)]];
    const id = rng.chance(0.8) ? rng.pick(fx.sessions) : crypto.randomUUID();
    return { label: "hostile Content-Range", method: rng.pick(["PATCH", "PUT"]), target: `/v2/${fx.repo}/blobs/uploads/${id}${rng.chance(0.5) ? `?digest=${fx.config.digest}` : ""}`, body, headers };
  }],
  [5, "content-length", (rng, fx) => {
    const body = rng.bytes(rng.int(0, 256));
    const declared = rng.pick(hostileContentLengths);
    const target = rng.pick([`/v2/${fx.repo}/blobs/uploads/${rng.pick(fx.sessions)}`, `/v2/${fx.repo}/blobs/uploads/?digest=${fx.config.digest}`, `/v2/${fx.repo}/manifests/${fx.tag}`, "/v1/auth/login", "/v2/token"]);
    return { label: "lying Content-Length", method: rng.pick(["PATCH", "PUT", "POST"]), target, body, contentLength: declared, mayWait: true };
  }],
  [4, "range", (rng, fx) => ({ label: "hostile Range", method: rng.pick(["GET", "HEAD"]), target: `/v2/${fx.repo}/blobs/${rng.pick([fx.config.digest, fx.layers[0]!.digest])}`, body: null, headers: [["Range", rng.pick(hostileRanges)]] })],
  [5, "upload-query", (rng, fx) => {
    const query = rng.pick([
      `digest=${rng.pick(hostileDigests([fx.config.digest]))}`,
      `mount=${rng.pick(hostileDigests([fx.config.digest]))}&from=${rng.pick([fx.repo, ...hostileNames])}`,
      `mount=${fx.config.digest}`,
      `mount=&from=`,
      `digest=${fx.config.digest}&digest=${fx.layers[0]!.digest}`,
    ]);
    return { label: "hostile upload query", method: "POST", target: `/v2/${rng.pick([fx.repo, "fuzz/other"])}/blobs/uploads/?${query}`, body: rng.chance(0.6) ? rng.bytes(rng.int(0, 4096)) : null };
  }],
  [12, "manifest", (rng, fx) => {
    const body = hostileManifest(rng, fx);
    const reference = rng.pick([fx.tag, "fuzzed", `sha256:${new Bun.CryptoHasher("sha256").update(body.bytes).digest("hex")}`, fx.manifestDigest]);
    const headers: [string, string][] = body.contentType === null ? [] : [["Content-Type", body.contentType]];
    return { label: `manifest: ${body.what}`, method: "PUT", target: `/v2/${fx.repo}/manifests/${reference}`, body: body.bytes, headers };
  }],
  [4, "listing", (rng, fx) => {
    const target = rng.pick([`/v2/${fx.repo}/tags/list`, "/v2/_catalog", `/v2/${fx.repo}/referrers/${fx.manifestDigest}`]);
    const query = rng.pick([...hostilePaging, `artifactType=${rng.pick(["", "%00", "x".repeat(5000), "a/b"])}`]);
    return { label: "hostile paging", method: "GET", target: `${target}?${query}`, body: null };
  }],
  [5, "headers", (rng, fx) => {
    const name = rng.pick(["Accept", "Content-Type", "X-Forwarded-Proto", "Range", "If-None-Match", "Docker-Content-Digest", "Expect", "Transfer-Encoding", "Origin", "Cookie"]);
    return { label: `hostile ${name}`, method: rng.pick(["GET", "HEAD", "PUT"]), target: rng.pick([`/v2/${fx.repo}/manifests/${fx.tag}`, `/v2/${fx.repo}/blobs/${fx.config.digest}`, "/v2/"]), body: null, headers: [[name, rng.pick(hostileHeaderValues)]] };
  }],
  [4, "auth", (rng, fx) => ({ label: "hostile Authorization", method: "GET", target: rng.pick(["/v2/", `/v2/${fx.repo}/manifests/${fx.tag}`, "/v1/users", "/v2/token?scope=repository:fuzz/app:pull"]), body: null, auth: rng.pick(hostileAuthorizations(rng)) })],
  [4, "token", (rng) => {
    if (rng.chance(0.5)) {
      const scope = rng.pick(["repository:../../x:push", "repository:a:b:c:d", "registry:catalog:*", `repository:${"a".repeat(5000)}:pull`, "::", "repository:fuzz/app:pull,push,delete,*", "%00"]);
      return { label: "token scope", method: "GET", target: `/v2/token?service=${rng.pick(["x", "", "%00"])}&scope=${scope}${"&scope=a:b:c".repeat(rng.int(0, 200))}`, body: null, auth: rng.pick(["admin", "none"]) };
    }
    const body = hostileForm(rng);
    return { label: `token form: ${body.what}`, method: "POST", target: "/v2/token", body: body.bytes, headers: [["Content-Type", body.contentType!]], auth: "none" };
  }],
  [7, "v1", (rng) => {
    const name = rng.pick(["admin", "%E0%A4%A", "%zz", "%", "..%2f..", "a".repeat(3000), "%00", "x%2Fy"]);
    const target = rng.pick([`/v1/users/${name}`, `/v1/tokens/${name}`, `/v1/policy/rules/${name}`, "/v1/users", "/v1/tokens", "/v1/policy", "/v1/policy/rules", "/v1/auth/login", "/v1/auth/logout", `/v1/policy/test?user=${name}&action=${rng.pick(["pull", "x", ""])}&repo=${rng.pick(hostileNames)}`, `/v1/tokens?user=${name}`, "/v1/health", "/v1/../v2/", "/v1"]);
    const body = rng.pick([hostileJson, hostileJson, hostileToml])(rng);
    const method = rng.pick(["GET", "POST", "PUT", "PATCH", "DELETE"]);
    return { label: `v1: ${method === "GET" || method === "DELETE" ? "path" : body.what}`, method, target, body: method === "GET" || method === "DELETE" ? null : body.bytes, headers: [["Content-Type", body.contentType ?? "application/json"]] };
  }],
  [6, "request-line", (rng, fx) => {
    const target = rng.pick(["*", "http://evil.example/v2/", "//v2/", "/v2/%", "/v2/%zz", "/v2/\u0001", "/v2/a b/tags/list", `/v2/${"x/".repeat(3000)}tags/list`, "/v2\\..\\..\\etc", "/v2/?", "/v2/#frag", "", "/", "/v3/", "/v2/../../etc/passwd", "/v2/./_catalog", "/V2/", "/v2//", `/v2/${fx.repo}/tags/list?${"&".repeat(5000)}`]);
    const version = rng.pick(["HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/9.9", "http/1.1", "HTTP/1.1 extra", ""]);
    const method = rng.pick(METHODS);
    const extra = rng.pick([
      "",
      `Authorization: ${fx.auth}\r\n`,
      "Host: a\r\nHost: b\r\n",
      "X-Null: a\u0000b\r\n",
      " folded: line\r\n",
      "X-Inject: a\rb\r\n",
      "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
      "Transfer-Encoding: gzip, chunked\r\n",
      "NoColonHeader\r\n",
      ": empty-name\r\n",
    ]);
    const head = `${method} ${target} ${version}\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`;
    const tail = extra.includes("chunked") ? rng.pick(["ffffffffffffffff\r\nabc\r\n0\r\n\r\n", "-1\r\n\r\n", "zz\r\nabc\r\n", "5\r\nabc\r\n0\r\n\r\n", "0\r\n\r\n"]) : "";
    return { label: "malformed request", method, target, body: null, raw: enc.encode(head + tail), mayWait: true };
  }],
  [3, "chunked", (rng, fx) => {
    const chunks = rng.pick(["4\r\nabcd\r\n0\r\n\r\n", "ffffffff\r\nab\r\n", "1;ext=" + "x".repeat(10_000) + "\r\na\r\n0\r\n\r\n", "0\r\nTrailer: x\r\n\r\n", "3\r\nabcdef\r\n0\r\n\r\n"]);
    const head = `PATCH /v2/${fx.repo}/blobs/uploads/${rng.pick(fx.sessions)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: ${fx.auth}\r\nTransfer-Encoding: chunked\r\n\r\n`;
    return { label: "chunked body", method: "PATCH", target: "", body: null, raw: enc.encode(head + chunks), mayWait: true };
  }],
  [2, "oversized-headers", (rng, fx) => {
    const many: [string, string][] = Array.from({ length: rng.pick([100, 1000, 5000]) }, (_, i) => [`X-H${i}`, "v".repeat(rng.int(1, 40))]);
    const one: [string, string][] = [["X-Big", "b".repeat(rng.pick([15_000, 17_000, 64_000, 1_000_000]))]];
    return { label: "oversized headers", method: "GET", target: `/v2/${fx.repo}/tags/list`, body: null, headers: rng.chance(0.5) ? many : one };
  }],
  [2, "junk", (rng) => ({ label: "random bytes", method: "", target: "", body: null, raw: rng.bytes(rng.int(1, 4096)), mayWait: true })],
];

const totalWeight = generators.reduce((n, [w]) => n + w, 0);

/** Case `index` of the run seeded with `seed`. */
export function fuzzCase(seed: number, index: number, fx: Fixture): FuzzCase {
  const rng = new Rng(mix(seed, index));
  let roll = rng.int(0, totalWeight - 1);
  let chosen = generators[0]!;
  for (const entry of generators) {
    if (roll < entry[0]) {
      chosen = entry;
      break;
    }
    roll -= entry[0];
  }
  const draft = chosen[2](rng, fx);
  const auth = draft.auth ?? (rng.chance(0.9) ? "admin" : "none");
  const headers = [...(draft.headers ?? [])];
  if (auth === "admin") headers.unshift(["Authorization", fx.auth]);
  else if (auth !== "none") headers.unshift(["Authorization", auth]);
  const { auth: _auth, headers: _headers, ...rest } = draft;
  return { ...rest, index, label: `${chosen[1]}: ${draft.label}`, headers };
}

/** The categories and their weights, for the report. */
export const categories = generators.map(([weight, name]) => ({ name, weight }));
