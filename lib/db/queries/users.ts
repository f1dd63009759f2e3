/**
 * @module Queries on accounts.
 */
import type { Kysely } from "kysely";
import { prepared } from "../prepared.ts";
import type { DB, Role, User, UserKind } from "../schema.ts";

const byName = prepared((db, name: string) => db.selectFrom("users").selectAll().where("name", "=", name));
const byId = prepared((db, id: number) => db.selectFrom("users").selectAll().where("id", "=", id));

/** The account named `name`. */
export async function findUserByName(db: Kysely<DB>, name: string): Promise<User | undefined> {
  return byName.first(db, name);
}

const stateByName = prepared((db, name: string) =>
  db.selectFrom("users").select(["id", "name", "role", "kind", "disabled", "password_version"]).where("name", "=", name),
);

/** What a request needs to know of an account (no password hash): checked on every authenticated request. */
export type AccountState = Pick<User, "id" | "name" | "role" | "kind" | "disabled" | "password_version">;

/** What a request needs to know of account `name`. */
export async function findAccountState(db: Kysely<DB>, name: string): Promise<AccountState | undefined> {
  return stateByName.first(db, name);
}

/** The account with id `id`. */
export async function findUserById(db: Kysely<DB>, id: number): Promise<User | undefined> {
  return byId.first(db, id);
}

/** All accounts by name. */
export async function listUserRows(db: Kysely<DB>): Promise<User[]> {
  return db.selectFrom("users").selectAll().orderBy("name").execute();
}

/** Creates an account; returns its id. */
export async function insertUser(
  db: Kysely<DB>,
  row: { name: string; role: Role; kind: UserKind; password_hash: string | null },
  now: number,
): Promise<number> {
  const { id } = await db
    .insertInto("users")
    .values({ ...row, disabled: 0, created_at: now, updated_at: now })
    .returning("id")
    .executeTakeFirstOrThrow();
  return id;
}

/** Changes some of an account's fields; returns whether it exists. */
export async function updateUser(
  db: Kysely<DB>,
  name: string,
  changes: Partial<{ role: Role; password_hash: string | null; disabled: number }>,
  now: number,
): Promise<boolean> {
  const result = await db.updateTable("users").set({ ...changes, updated_at: now }).where("name", "=", name).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Sets an account's password hash and moves its password version on, so what the old password made can tell. */
export async function setPasswordHash(db: Kysely<DB>, userId: number, passwordHash: string, now: number): Promise<void> {
  await db
    .updateTable("users")
    .set((eb) => ({ password_hash: passwordHash, password_version: eb("password_version", "+", 1), updated_at: now }))
    .where("id", "=", userId)
    .execute();
}

/** Removes an account (its tokens go with it); returns whether it existed. */
export async function deleteUser(db: Kysely<DB>, name: string): Promise<boolean> {
  const result = await db.deleteFrom("users").where("name", "=", name).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** How many enabled admins exist. */
export async function countEnabledAdmins(db: Kysely<DB>): Promise<number> {
  const row = await db
    .selectFrom("users")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("role", "=", "admin")
    .where("disabled", "=", 0)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
