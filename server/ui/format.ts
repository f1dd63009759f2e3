/**
 * @module Formatting for the UI: byte sizes, times, digests, and what kind
 * of thing a manifest or referrer is. Pure functions, unit tested.
 */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** `1536` → `1.5 KiB`; whole bytes below 1 KiB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "–";
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${UNITS[unit]}`;
}

/** How long ago `ms` was, from `now`: `just now`, `5 min ago`, `3 h ago`, `2 days ago`, or the date past a month. */
export function formatAge(ms: number | null, now: number): string {
  if (ms === null) return "never";
  const s = Math.round((now - ms) / 1000);
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  if (s < 30 * 86_400) return `${Math.round(s / 86_400)} day${Math.round(s / 86_400) === 1 ? "" : "s"} ago`;
  return formatDate(ms);
}

/** `2026-12-06 14:03 UTC`. */
export function formatDate(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** `sha256:0123456789ab…` shortened to the algorithm and 12 hex digits. */
export function shortDigest(digest: string): string {
  const colon = digest.indexOf(":");
  return colon < 0 ? digest.slice(0, 19) : digest.slice(0, colon + 13);
}

/** What a referrer is, from its artifact type (or media type). */
export type ReferrerKind = "signature" | "sbom" | "attestation" | "artifact";

const KIND_PATTERNS: [ReferrerKind, RegExp][] = [
  ["signature", /cosign|signature|notary|\.sig\b|sigstore\.bundle/i],
  ["sbom", /spdx|cyclonedx|sbom|syft/i],
  ["attestation", /in-toto|attestation|provenance|slsa|vex/i],
];

/** The kind of a referrer: signature, SBOM, attestation, or another artifact. */
export function referrerKind(artifactType: string | null | undefined, mediaType = ""): ReferrerKind {
  const text = `${artifactType ?? ""} ${mediaType}`;
  for (const [kind, pattern] of KIND_PATTERNS) if (pattern.test(text)) return kind;
  return "artifact";
}

/** What a tag names: an image, an index of images, or an artifact. */
export function manifestKind(mediaType: string, artifactType: string | null): "image" | "index" | "artifact" {
  if (/image\.index|manifest\.list/.test(mediaType)) return "index";
  return artifactType === null ? "image" : "artifact";
}

/** A percentage of `part` in `whole` for bar widths, 0–100, and never NaN. */
export function percent(part: number, whole: number): number {
  if (!(whole > 0) || !(part > 0)) return 0;
  return Math.min(100, (part / whole) * 100);
}
