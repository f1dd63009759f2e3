/**
 * @module Queries on the access policy's rules and its version counter.
 */
import { sql, type Kysely } from "kysely";
import { changeVersion } from "../changes.ts";
import { prepared } from "../prepared.ts";
import type { DB } from "../schema.ts";

/** A rule row with its lists decoded. */
export interface RuleRow {
  id: string;
  priority: number;
  effect: string;
  subjects: string[];
  actions: string[];
  repositories: string[];
  enabled: boolean;
  description: string;
}

/** Every stored rule. */
export async function loadRuleRows(db: Kysely<DB>): Promise<RuleRow[]> {
  const rows = await db.selectFrom("policy_rules").selectAll().orderBy("id").execute();
  return rows.map((r) => ({
    id: r.id,
    priority: r.priority,
    effect: r.effect,
    subjects: JSON.parse(r.subjects) as string[],
    actions: JSON.parse(r.actions) as string[],
    repositories: JSON.parse(r.repositories) as string[],
    enabled: r.enabled !== 0,
    description: r.description,
  }));
}

/** Replaces every rule with `rules` and bumps the version; call inside a transaction. */
export async function replaceRuleRows(db: Kysely<DB>, rules: readonly RuleRow[]): Promise<number> {
  await db.deleteFrom("policy_rules").execute();
  for (const r of rules) {
    await db
      .insertInto("policy_rules")
      .values({
        id: r.id,
        priority: r.priority,
        effect: r.effect,
        subjects: JSON.stringify(r.subjects),
        actions: JSON.stringify(r.actions),
        repositories: JSON.stringify(r.repositories),
        enabled: r.enabled ? 1 : 0,
        description: r.description,
      })
      .execute();
  }
  const row = await db
    .updateTable("meta")
    .set({ value: sql`cast(cast(value as integer) + 1 as text)` })
    .where("key", "=", "policy_version")
    .returning("value")
    .executeTakeFirstOrThrow();
  return Number(row.value);
}

const version = prepared((db) => db.selectFrom("meta").select("value").where("key", "=", "policy_version"));

/** The policy version: it changes whenever the rules do. */
export async function policyVersion(db: Kysely<DB>): Promise<number> {
  return Number((await version.first(db))?.value ?? 0);
}

/** The database's change number (SQLite's data_version or its PostgreSQL equivalent): it moves when another connection commits, so a process can notice others' writes cheaply. */
export async function dataVersion(db: Kysely<DB>): Promise<number> {
  return changeVersion(db);
}
