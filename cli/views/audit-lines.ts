/**
 * @module Audit events as text: the columns `mcr audit tail` prints, as an
 * aligned table for a one-shot listing and as fixed-width lines for a
 * follow, where rows arrive one by one and cannot be aligned afterwards.
 */
import type { AuditRecord } from "../../lib/audit/audit-events.ts";
import { safe } from "../output.ts";

/** Column titles, in order. */
export const AUDIT_HEADER = ["TIME", "EVENT", "OUTCOME", "ACTOR", "SOURCE", "REPOSITORY", "REFERENCE", "DETAIL"];

/** Widths of every column but the last when lines are printed as they come. */
const FOLLOW_WIDTHS = [19, 18, 7, 18, 15, 28, 30];

/**
 * The cells of one event, matching AUDIT_HEADER, each escaped (`safe`): the
 * actor, repository, tag and detail are what clients sent, and these cells
 * reach the table, the plain follow lines and the ink view alike.
 */
export function auditCells(e: AuditRecord): string[] {
  const cells = [
    e.time.slice(0, 19).replace("T", " "),
    e.event,
    e.outcome,
    e.actor,
    e.source ?? "-",
    e.repository ?? "-",
    reference(e),
    e.detail === null ? "" : detailText(e.detail),
  ];
  return cells.map(safe);
}

/** One fixed-width line of cells: long cells are cut with an ellipsis so columns stay put. */
export function fixedLine(cells: readonly string[]): string {
  return cells
    .map((cell, i) => {
      const width = FOLLOW_WIDTHS[i];
      if (width === undefined) return cell;
      return cell.length > width ? `${cell.slice(0, width - 1)}…` : cell.padEnd(width);
    })
    .join("  ")
    .trimEnd();
}

/** Whether an event reports something that did not go through. */
export function isBad(e: AuditRecord): boolean {
  return e.outcome !== "success";
}

/** `tag@sha256:0123456789ab`, a short digest, a tag, or `-`. */
function reference(e: AuditRecord): string {
  const digest = e.digest === null ? null : shortDigest(e.digest);
  if (e.tag !== null && digest !== null) return `${e.tag}@${digest}`;
  return e.tag ?? digest ?? "-";
}

function shortDigest(digest: string): string {
  return /^sha256:[0-9a-f]{64}$/.test(digest) ? digest.slice(0, 19) : digest;
}

/** `key=value` pairs; digests shortened, lists joined with commas. */
function detailText(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(([key, value]) => `${key}=${valueText(value)}`)
    .join(" ");
}

function valueText(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (typeof value === "string") return shortDigest(value);
  if (Array.isArray(value)) return value.map(valueText).join(",") || "[]";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
