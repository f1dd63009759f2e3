/**
 * @module Hostile request bodies: manifests nested too deep, arrays too
 * long, fields of the wrong type, duplicate keys, invalid UTF-8, bodies
 * past the size limit, JSON bombs; and junk for the JSON, TOML and form
 * bodies of /v1 and the token endpoint.
 */
import type { Rng } from "../support/random.ts";

const enc = new TextEncoder();
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const INDEX = "application/vnd.oci.image.index.v1+json";

/** What a valid manifest of the fixture looks like, to break one field at a time. */
export interface ManifestParts {
  config: { mediaType: string; digest: string; size: number };
  layers: { mediaType: string; digest: string; size: number }[];
  manifestDigest: string;
  manifestSize: number;
}

/** Values of the wrong type (or right type, wrong value) for any field. */
const wrongValues: unknown[] = [null, true, 0, -1, 1.5, 1e300, "2", "", [], {}, [1, 2], { a: 1 }, "x".repeat(70_000), -0, 2 ** 53 + 2];

/** A body and the Content-Type it claims. */
export interface Body {
  what: string;
  bytes: Uint8Array;
  contentType: string | null;
}

function json(what: string, value: unknown, contentType: string | null = MANIFEST): Body {
  return { what, bytes: enc.encode(JSON.stringify(value)), contentType };
}

function text(what: string, value: string, contentType: string | null = MANIFEST): Body {
  return { what, bytes: enc.encode(value), contentType };
}

/** A manifest body chosen at random from every family of hostile manifests. */
export function hostileManifest(rng: Rng, parts: ManifestParts): Body {
  const valid = { schemaVersion: 2, mediaType: MANIFEST, config: parts.config, layers: parts.layers };
  const family = rng.int(0, 11);
  switch (family) {
    case 0: {
      // One field of a valid manifest replaced by a value of the wrong type.
      const field = rng.pick(["schemaVersion", "mediaType", "config", "layers", "subject", "artifactType", "annotations", "manifests"]);
      return json(`wrong type for ${field}`, { ...valid, [field]: rng.pick(wrongValues) });
    }
    case 1: {
      // One descriptor field broken.
      const field = rng.pick(["mediaType", "digest", "size", "urls", "annotations"]);
      const layer = { ...parts.layers[0]!, [field]: rng.pick(wrongValues) };
      return json(`descriptor with bad ${field}`, { ...valid, layers: [layer, ...parts.layers.slice(1)] });
    }
    case 2: {
      const depth = rng.pick([1000, 100_000, 1_000_000]);
      const open = rng.pick(["[", '{"a":']);
      const close = open === "[" ? "]" : "}";
      return text(`nesting ${depth} deep`, `{"schemaVersion":2,"mediaType":"${MANIFEST}","x":${open.repeat(depth)}1${close.repeat(depth)}}`);
    }
    case 3: {
      const count = rng.pick([10_000, 40_000]);
      const layers = Array.from({ length: count }, (_, i) => ({ ...parts.layers[0]!, digest: `sha256:${i.toString(16).padStart(64, "0")}` }));
      return json(`${count} layers`, { ...valid, layers });
    }
    case 4: {
      const count = rng.pick([20_000, 40_000]);
      const manifests = Array.from({ length: count }, () => ({ mediaType: MANIFEST, digest: parts.manifestDigest, size: parts.manifestSize }));
      return json(`index of ${count} entries`, { schemaVersion: 2, mediaType: INDEX, manifests }, INDEX);
    }
    case 5: {
      const dupe = rng.pick([
        `{"schemaVersion":2,"schemaVersion":1,"mediaType":"${MANIFEST}","config":${JSON.stringify(parts.config)},"layers":[]}`,
        `{"schemaVersion":2,"mediaType":"${MANIFEST}","config":${JSON.stringify(parts.config)},"layers":${JSON.stringify(parts.layers)},"layers":[]}`,
        `{"schemaVersion":2,"mediaType":"${MANIFEST}","mediaType":"${INDEX}","config":${JSON.stringify(parts.config)},"layers":[]}`,
        `{"schemaVersion":2,"mediaType":"${MANIFEST}","config":${JSON.stringify(parts.config)},"config":{"mediaType":"x","digest":"sha256:${"0".repeat(64)}","size":1},"layers":[]}`,
      ]);
      return text("duplicate keys", dupe);
    }
    case 6: {
      const valid = enc.encode(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config: parts.config, layers: parts.layers, annotations: { a: "xxxx" } }));
      const bytes = new Uint8Array(valid);
      const at = bytes.indexOf(0x78); // inside the annotation value
      const bad = rng.pick([[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]]);
      bytes.set(bad.slice(0, 4), at);
      return { what: "invalid UTF-8", bytes, contentType: MANIFEST };
    }
    case 7: {
      const size = rng.pick([4 * 1024 * 1024 + 1, 5 * 1024 * 1024]);
      const pad = "x".repeat(size);
      return json(`${size} bytes`, { ...valid, annotations: { pad } });
    }
    case 8: {
      // Bombs: many keys, huge numbers, long strings, escapes.
      return rng.pick([
        () => text("200k keys", `{${Array.from({ length: 200_000 }, (_, i) => `"k${i}":0`).join(",")}}`),
        () => text("a number of a million digits", `{"schemaVersion":1${"0".repeat(1_000_000)}}`),
        () => text("escape soup", `{"schemaVersion":2,"mediaType":"${"\\u0000\\ud800".repeat(100_000)}"}`),
        () => text("lone surrogates", `{"schemaVersion":2,"mediaType":"${MANIFEST}","config":${JSON.stringify(parts.config)},"layers":[],"annotations":{"\\udc00":"\\ud800"}}`),
        () => text("4 MB of spaces", `${" ".repeat(4_000_000)}{}`),
      ])();
    }
    case 9: {
      return rng.pick([
        text("empty", ""),
        text("null", "null"),
        text("array", "[]"),
        text("string", '"manifest"'),
        text("number", "1"),
        text("BOM", `\ufeff${JSON.stringify(valid)}`),
        text("trailing garbage", `${JSON.stringify(valid)}}}`),
        text("NUL bytes", `${JSON.stringify(valid).slice(0, 20)}\u0000${JSON.stringify(valid).slice(20)}`),
        text("XML", '<?xml version="1.0"?><manifest/>'),
        text("NaN", '{"schemaVersion":NaN}'),
        text("truncated", JSON.stringify(valid).slice(0, rng.int(1, 60))),
      ]);
    }
    case 10: {
      // A valid document sent with a Content-Type that does not match or is malformed.
      return json("content-type mismatch", valid, rng.pick([INDEX, "application/json", "", "text/html", `${MANIFEST}; x=${"y".repeat(4000)}`, "application/vnd.docker.distribution.manifest.v1+json", "*/*"]));
    }
    default: {
      const subject = rng.pick([{ mediaType: MANIFEST, digest: parts.manifestDigest, size: parts.manifestSize }, { digest: 5 }, "sha256:x", null]);
      return json("subject and artifactType", { ...valid, subject, artifactType: rng.pick(["application/x", "", 7, "x".repeat(20_000)]) });
    }
  }
}

/** JSON for /v1 endpoints: wrong shapes, bombs, oversized. */
export function hostileJson(rng: Rng): Body {
  return rng.pick([
    () => text("not JSON", "{", "application/json"),
    () => text("array", "[]", "application/json"),
    () => json("wrong types", { name: rng.pick(wrongValues), role: rng.pick(wrongValues), password: rng.pick(wrongValues), kind: rng.pick(wrongValues) }, "application/json"),
    () => json("token with absurd expiry", { user: "admin", name: "t", expires_in_ms: rng.pick([-1, 0, 1e300, 2 ** 63, 1.5, "1d", null]) }, "application/json"),
    () => text("deep", `${"[".repeat(500_000)}${"]".repeat(500_000)}`, "application/json"),
    () => text("over 1 MiB", JSON.stringify({ name: "x".repeat(1_100_000) }), "application/json"),
    () => json("policy with junk rules", { rules: [{ id: rng.pick(wrongValues), effect: rng.pick(["allow", "deny", 3]), subjects: rng.pick(wrongValues), actions: ["pull"], repositories: ["**/../**"] }] }, "application/json"),
    () => json("login with huge password", { username: "admin", password: "p".repeat(100_000) }, "application/json"),
    () => json("prototype keys", JSON.parse('{"__proto__":{"role":"admin"},"constructor":{"prototype":{"x":1}},"name":"proto","role":"guest","password":"pppppppppppp"}'), "application/json"),
  ])();
}

/** TOML for `PUT /v1/policy`. */
export function hostileToml(rng: Rng): Body {
  return rng.pick([
    () => text("deep TOML", `a = ${"[".repeat(100_000)}${"]".repeat(100_000)}`, "application/toml"),
    () => text("TOML junk", "[[rule]]\nid = \nx = [1,", "application/toml"),
    () => text("TOML wrong types", '[[rule]]\nid = 5\neffect = "allow"\nsubjects = "x"\nactions = [1]\nrepositories = [{}]', "application/toml"),
    () => text("TOML many tables", Array.from({ length: 20_000 }, (_, i) => `[t${i}]\nv = ${i}`).join("\n"), "application/toml"),
  ])();
}

/** Bodies for the OAuth2 form of the token endpoint. */
export function hostileForm(rng: Rng): Body {
  const form = "application/x-www-form-urlencoded";
  return rng.pick([
    () => text("no grant", "username=admin", form),
    () => text("bad escapes", "grant_type=password&username=%zz&password=%", form),
    () => text("huge form", `grant_type=password&username=admin&password=${"a".repeat(70_000)}`, form),
    () => text("refresh junk", `grant_type=refresh_token&refresh_token=${rng.string(80)}&scope=repository:../../x:push`, form),
    () => text("many scopes", `grant_type=password&username=admin&password=x&${Array.from({ length: 3000 }, () => "scope=repository:a:pull").join("&")}`, form),
    () => text("NUL", "grant_type=password\u0000&username=admin", form),
  ])();
}
