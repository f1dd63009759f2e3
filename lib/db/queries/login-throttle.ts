/**
 * @module Queries on the login throttling counters shared by every
 * process: a row per (account, client) pair with its recent wrong-secret
 * fingerprints, and counters per network and per account. Reads are by
 * primary key; a failure updates three rows in one short transaction.
 */
import { sql, type Kysely } from "kysely";
import { prepared } from "../prepared.ts";
import type { DB, LoginCountersTable, LoginPairsTable } from "../schema.ts";

/** A pair's row, or undefined. */
const pairRow = prepared((db, account: string, client: string) =>
  db.selectFrom("login_pairs").selectAll().where("account", "=", account).where("client", "=", client),
);

/** The (account, client) pair's row. */
export async function findLoginPair(db: Kysely<DB>, account: string, client: string): Promise<LoginPairsTable | undefined> {
  return pairRow.first(db, account, client);
}

const counterRows = prepared((db, network: string, account: string) =>
  db
    .selectFrom("login_counters")
    .selectAll()
    .where((eb) => eb.or([eb.and([eb("scope", "=", "network"), eb("key", "=", network)]), eb.and([eb("scope", "=", "account"), eb("key", "=", account)])])),
);

/** The network's and the account's counters (either may be missing). */
export async function findLoginCounters(db: Kysely<DB>, network: string, account: string): Promise<{ network?: LoginCountersTable; account?: LoginCountersTable }> {
  const rows = await counterRows.all(db, network, account);
  return { network: rows.find((r) => r.scope === "network"), account: rows.find((r) => r.scope === "account") };
}

/** Writes a pair's row, whole. */
export async function putLoginPair(db: Kysely<DB>, row: LoginPairsTable): Promise<void> {
  await db
    .insertInto("login_pairs")
    .values(row)
    .onConflict((oc) =>
      oc.columns(["account", "client"]).doUpdateSet({ failures: row.failures, last_failure: row.last_failure, wrong_json: row.wrong_json, last_success: row.last_success }),
    )
    .execute();
}

/** Counts one more failure on a counter, starting again from 1 when its failures were forgotten (last one before `forgottenBefore`). */
export async function bumpLoginCounter(db: Kysely<DB>, scope: LoginCountersTable["scope"], key: string, now: number, forgottenBefore: number): Promise<void> {
  await db
    .insertInto("login_counters")
    .values({ scope, key, failures: 1, last_failure: now })
    .onConflict((oc) =>
      oc.columns(["scope", "key"]).doUpdateSet({
        failures: sql<number>`case when login_counters.last_failure < ${forgottenBefore} then 1 else login_counters.failures + 1 end`,
        last_failure: now,
      }),
    )
    .execute();
}

/**
 * Deletes what no longer counts: pairs with no failure since
 * `forgottenBefore` and no success since `untrustedBefore`, counters with
 * no failure since `forgottenBefore`. Returns how many rows went.
 */
export async function pruneLoginThrottle(db: Kysely<DB>, forgottenBefore: number, untrustedBefore: number): Promise<number> {
  const pairs = await db
    .deleteFrom("login_pairs")
    .where("last_failure", "<", forgottenBefore)
    .where((eb) => eb.or([eb("last_success", "=", 0), eb("last_success", "<", untrustedBefore)]))
    .executeTakeFirst();
  const counters = await db.deleteFrom("login_counters").where("last_failure", "<", forgottenBefore).executeTakeFirst();
  return Number(pairs.numDeletedRows) + Number(counters.numDeletedRows);
}

/**
 * Over `max` pair rows, deletes the excess: light, untrusted rows (fewer
 * than `protectedFailures` failures) oldest first, then, only if that is
 * not enough, the oldest of the rest. Returns how many went.
 */
export async function capLoginPairs(db: Kysely<DB>, max: number, protectedFailures: number, untrustedBefore: number): Promise<number> {
  const count = Number((await db.selectFrom("login_pairs").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirst())?.n ?? 0);
  let excess = count - max;
  if (excess <= 0) return 0;
  const removed = count - max;
  const light = await db
    .selectFrom("login_pairs")
    .select(["account", "client"])
    .where("failures", "<", protectedFailures)
    .where((eb) => eb.or([eb("last_success", "=", 0), eb("last_success", "<", untrustedBefore)]))
    .orderBy("last_failure")
    .limit(excess)
    .execute();
  excess -= await deletePairs(db, light);
  if (excess > 0) excess -= await deletePairs(db, await db.selectFrom("login_pairs").select(["account", "client"]).orderBy("last_failure").limit(excess).execute());
  return removed - Math.max(0, excess);
}

async function deletePairs(db: Kysely<DB>, keys: { account: string; client: string }[]): Promise<number> {
  let n = 0;
  for (const k of keys) {
    const r = await db.deleteFrom("login_pairs").where("account", "=", k.account).where("client", "=", k.client).executeTakeFirst();
    n += Number(r.numDeletedRows);
  }
  return n;
}
