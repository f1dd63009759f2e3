/**
 * @module Writes OCI image layout directories from scratch for client tests:
 * real gzipped tar layers, image configs, manifests and a two-platform index.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const INDEX = "application/vnd.oci.image.index.v1+json";
const CONFIG = "application/vnd.oci.image.config.v1+json";
const LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
const REF_NAME = "org.opencontainers.image.ref.name";
const BLOCK = 512;
/** A fixed timestamp so that the same inputs give the same bytes. */
const MTIME = 1_700_000_000;

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
  annotations?: Record<string, string>;
}

/** One file of a tar archive. */
export interface TarEntry {
  path: string;
  content: Uint8Array | string;
}

/** What `writeImageLayout` wrote. */
export interface ImageWritten {
  manifestDigest: string;
  manifestBytes: Uint8Array;
  configDigest: string;
  layerDigests: string[];
  /** sha256 of each uncompressed layer tar, as in the config's diff_ids. */
  diffIds: string[];
}

/** What `writeIndexLayout` wrote. */
export interface IndexWritten {
  indexDigest: string;
  indexBytes: Uint8Array;
  manifests: (ImageWritten & { platform: { architecture: string; os: string } })[];
}

/** `sha256:<hex>` of some bytes. */
export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

/** A ustar header block for a regular file (`0`) or directory (`5`). */
function tarHeader(path: string, size: number, type: "0" | "5"): Uint8Array {
  if (path.length > 100) throw new Error(`tar path too long for this writer: ${path}`);
  const header = new Uint8Array(BLOCK);
  const put = (offset: number, text: string) => header.set(new TextEncoder().encode(text), offset);
  put(0, path);
  put(100, octal(type === "5" ? 0o755 : 0o644, 8));
  put(108, octal(0, 8));
  put(116, octal(0, 8));
  put(124, octal(size, 12));
  put(136, octal(MTIME, 12));
  put(148, " ".repeat(8)); // the checksum is computed over spaces in its own field
  put(156, type);
  put(257, "ustar\0");
  put(263, "00");
  put(265, "root");
  put(297, "root");
  const sum = header.reduce((total, byte) => total + byte, 0);
  put(148, sum.toString(8).padStart(6, "0") + "\0 ");
  return header;
}

/** A tar archive (ustar, 512-byte blocks) of `entries`, with their parent directories. */
export function tarArchive(entries: TarEntry[]): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  const dirs = new Set<string>();
  for (const entry of entries) {
    const segments = entry.path.split("/").slice(0, -1);
    for (let i = 1; i <= segments.length; i++) {
      const dir = `${segments.slice(0, i).join("/")}/`;
      if (!dirs.has(dir)) parts.push(tarHeader(dir, 0, "5"));
      dirs.add(dir);
    }
    const content = typeof entry.content === "string" ? new TextEncoder().encode(entry.content) : entry.content;
    parts.push(tarHeader(entry.path, content.byteLength, "0"), content);
    const padding = (BLOCK - (content.byteLength % BLOCK)) % BLOCK;
    if (padding > 0) parts.push(new Uint8Array(padding));
  }
  parts.push(new Uint8Array(2 * BLOCK));
  return concat(parts);
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** Deterministic pseudo-random bytes (xorshift32), so layers do not compress to nothing. */
export function noise(seed: number, size: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer, 0, size);
}

/** Writes a blob into `dir/blobs/sha256/` and describes it. */
function writeBlob(dir: string, mediaType: string, bytes: Uint8Array): Descriptor {
  const digest = sha256(bytes);
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  writeFileSync(join(dir, "blobs", "sha256", digest.slice("sha256:".length)), bytes);
  return { mediaType, digest, size: bytes.byteLength };
}

function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** Writes the layers, config and manifest of one image; the manifest is not in index.json yet. */
function writeImage(dir: string, layers: number, platform: { architecture: string; os: string }, seed: number) {
  const layerDescriptors: Descriptor[] = [];
  const diffIds: string[] = [];
  for (let i = 0; i < layers; i++) {
    const tar = tarArchive([
      { path: `layer${i}/README`, content: `layer ${i} of a ${platform.architecture} test image\n` },
      { path: `layer${i}/data/noise.bin`, content: noise(seed * 131 + i + 1, 20_000 + i * 777) },
      { path: `etc/mcr-${platform.architecture}-${i}.conf`, content: `seed=${seed}\nlayer=${i}\n` },
    ]);
    diffIds.push(sha256(tar));
    layerDescriptors.push(writeBlob(dir, LAYER, Bun.gzipSync(tar)));
  }
  const config = {
    created: new Date(MTIME * 1000).toISOString(),
    architecture: platform.architecture,
    os: platform.os,
    config: { Env: ["PATH=/usr/local/bin:/usr/bin:/bin"], Cmd: ["/bin/sh"] },
    rootfs: { type: "layers", diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created: new Date(MTIME * 1000).toISOString(), created_by: `test layer ${i}` })),
  };
  const configDescriptor = writeBlob(dir, CONFIG, jsonBytes(config));
  const manifestBytes = jsonBytes({ schemaVersion: 2, mediaType: MANIFEST, config: configDescriptor, layers: layerDescriptors });
  const descriptor = writeBlob(dir, MANIFEST, manifestBytes);
  const written: ImageWritten = {
    manifestDigest: descriptor.digest,
    manifestBytes,
    configDigest: configDescriptor.digest,
    layerDigests: layerDescriptors.map((d) => d.digest),
    diffIds,
  };
  return { descriptor, written };
}

/** Writes `oci-layout` and an index.json listing `descriptor` under `tag`. */
function writeTop(dir: string, tag: string, descriptor: Descriptor): void {
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const entry = { ...descriptor, annotations: { [REF_NAME]: tag } };
  writeFileSync(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [entry] }));
}

/** Writes an OCI layout holding one linux/amd64 image of `layers` layers, tagged `tag`. */
export function writeImageLayout(dir: string, opts: { tag: string; layers: number; seed?: number }): ImageWritten {
  mkdirSync(dir, { recursive: true });
  const { descriptor, written } = writeImage(dir, opts.layers, { architecture: "amd64", os: "linux" }, opts.seed ?? 1);
  writeTop(dir, opts.tag, descriptor);
  return written;
}

/** Writes an OCI layout holding a linux/amd64 + linux/arm64 image index, tagged `tag`. */
export function writeIndexLayout(dir: string, opts: { tag: string; layers?: number; seed?: number }): IndexWritten {
  mkdirSync(dir, { recursive: true });
  const platforms = [
    { architecture: "amd64", os: "linux" },
    { architecture: "arm64", os: "linux" },
  ];
  const manifests: IndexWritten["manifests"] = [];
  const children: Descriptor[] = [];
  platforms.forEach((platform, i) => {
    const { descriptor, written } = writeImage(dir, opts.layers ?? 2, platform, (opts.seed ?? 7) * 10 + i);
    children.push({ ...descriptor, platform });
    manifests.push({ ...written, platform });
  });
  const indexBytes = jsonBytes({ schemaVersion: 2, mediaType: INDEX, manifests: children });
  const indexDescriptor = writeBlob(dir, INDEX, indexBytes);
  writeTop(dir, opts.tag, indexDescriptor);
  return { indexDigest: indexDescriptor.digest, indexBytes, manifests };
}
