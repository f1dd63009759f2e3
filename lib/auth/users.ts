/**
 * @module Account management: add, list, change password, disable,
 * remove, and the first admin. Every change is audited; password hashes
 * never leave this module.
 */
import { fail } from "../errors.ts";
import {
  countEnabledAdmins,
  deleteUser,
  findUserByName,
  insertUser,
  listUserRows,
  setPasswordHash,
  updateUser,
} from "../db/queries/users.ts";
import { roles, userKinds, type Role, type User, type UserKind } from "../db/schema.ts";
import type { Registry } from "../registry/registry.ts";
import { endDerivedTokens } from "./derived-tokens.ts";
import { hashPassword, MAX_PASSWORD_LENGTH, randomSecret } from "./secrets.ts";

/** Sessions and refresh tokens an account change ended. */
export interface EndedCredentials {
  sessions: number;
  refreshTokens: number;
}

const USER_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Shortest password accepted for a human account. */
export const MIN_PASSWORD_LENGTH = 8;

/** An account as shown to people and APIs: never the hash. */
export interface UserInfo {
  name: string;
  role: Role;
  kind: UserKind;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

/** The public view of an account row. */
export function userInfo(row: User): UserInfo {
  return { name: row.name, role: row.role, kind: row.kind, disabled: row.disabled !== 0, createdAt: row.created_at, updatedAt: row.updated_at };
}

/** Throws INVALID_ARGUMENT unless `password` is acceptable. */
export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) fail("INVALID_ARGUMENT", `password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH) fail("INVALID_ARGUMENT", `password must have at most ${MAX_PASSWORD_LENGTH} characters`);
}

/** Creates an account. Humans need a password; robots have none (they use tokens). */
export async function addUser(
  reg: Registry,
  input: { name: string; role?: string; kind?: string; password?: string },
  actor: string,
): Promise<UserInfo> {
  const role = (input.role ?? "user") as Role;
  const kind = (input.kind ?? "human") as UserKind;
  if (!USER_NAME.test(input.name)) fail("INVALID_ARGUMENT", "user names are 1-64 characters: lowercase letters, digits, '.', '_' and '-'", { name: input.name.slice(0, 80) });
  if (!roles.includes(role)) fail("INVALID_ARGUMENT", `role must be one of ${roles.join(", ")}`, { role });
  if (!userKinds.includes(kind)) fail("INVALID_ARGUMENT", `kind must be one of ${userKinds.join(", ")}`, { kind });
  if (kind === "human" && input.password === undefined) fail("INVALID_ARGUMENT", "a human account needs a password");
  if (kind === "robot" && input.password !== undefined) fail("INVALID_ARGUMENT", "robot accounts have no password: create a token for them");
  if (input.password !== undefined) checkPassword(input.password);
  if (await findUserByName(reg.db, input.name)) fail("ALREADY_EXISTS", `user ${input.name} already exists`);
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  const now = reg.now();
  try {
    await insertUser(reg.db, { name: input.name, role, kind, password_hash: passwordHash }, now);
  } catch (error) {
    if (String(error).includes("UNIQUE")) fail("ALREADY_EXISTS", `user ${input.name} already exists`);
    throw error;
  }
  reg.audit.record({ event: "user.added", actor, outcome: "success", detail: { user: input.name, role, kind } });
  return userInfo((await findUserByName(reg.db, input.name))!);
}

/** Every account. */
export async function listUsers(reg: Registry): Promise<UserInfo[]> {
  return (await listUserRows(reg.db)).map(userInfo);
}

/** One account; throws NOT_FOUND. */
export async function getUser(reg: Registry, name: string): Promise<UserInfo> {
  const row = await findUserByName(reg.db, name);
  if (!row) fail("NOT_FOUND", `no user ${name}`);
  return userInfo(row);
}

/**
 * Sets a human's password. The sessions and refresh tokens made from the
 * old one end in the same transaction, and JWTs issued from it fail their
 * next use (the account's password version moves on); returns what ended.
 */
export async function setPassword(reg: Registry, name: string, password: string, actor: string): Promise<EndedCredentials> {
  const user = await findUserByName(reg.db, name);
  if (!user) fail("NOT_FOUND", `no user ${name}`);
  if (user.kind === "robot") fail("INVALID_ARGUMENT", "robot accounts have no password: create a token for them");
  checkPassword(password);
  const ended = await replacePassword(reg, user.id, await hashPassword(password));
  reg.audit.record({ event: "user.changed", actor, outcome: "success", detail: { user: name, change: "password", ended } });
  return ended;
}

/** Stores a new password hash and ends what the old password made, in one transaction. */
async function replacePassword(reg: Registry, userId: number, passwordHash: string): Promise<EndedCredentials> {
  const now = reg.now();
  return reg.db.transaction().execute(async (trx) => {
    await setPasswordHash(trx, userId, passwordHash, now);
    return endDerivedTokens(trx, userId, "password", now);
  });
}

/**
 * Disables (or re-enables) an account; a disabled account is refused on its
 * next request, and disabling ends all its sessions and refresh tokens
 * (its personal tokens stay, refused while it is disabled). Returns what ended.
 */
export async function setDisabled(reg: Registry, name: string, disabled: boolean, actor: string): Promise<EndedCredentials> {
  const user = await findUserByName(reg.db, name);
  if (!user) fail("NOT_FOUND", `no user ${name}`);
  if (disabled && user.role === "admin" && user.disabled === 0 && (await countEnabledAdmins(reg.db)) <= 1) {
    fail("CONFLICT", "refusing to disable the last enabled admin");
  }
  const now = reg.now();
  const ended = await reg.db.transaction().execute(async (trx) => {
    await updateUser(trx, name, { disabled: disabled ? 1 : 0 }, now);
    return disabled ? endDerivedTokens(trx, user.id, "all", now) : { sessions: 0, refreshTokens: 0 };
  });
  reg.audit.record({ event: "user.changed", actor, outcome: "success", detail: { user: name, change: disabled ? "disabled" : "enabled", ...(disabled ? { ended } : {}) } });
  return ended;
}

/** Removes an account and its tokens. */
export async function removeUser(reg: Registry, name: string, actor: string): Promise<void> {
  const user = await findUserByName(reg.db, name);
  if (!user) fail("NOT_FOUND", `no user ${name}`);
  if (user.role === "admin" && user.disabled === 0 && (await countEnabledAdmins(reg.db)) <= 1) {
    fail("CONFLICT", "refusing to remove the last enabled admin");
  }
  await deleteUser(reg.db, name);
  reg.audit.record({ event: "user.removed", actor, outcome: "success", detail: { user: name } });
}

/**
 * At first start, when no enabled admin exists, creates `admin` with
 * `password` or a random one. Returns the generated password so the
 * caller can show it once; null when nothing was created or it was given.
 */
export async function ensureAdmin(reg: Registry, password: string | undefined): Promise<{ created: boolean; generated: string | null }> {
  if ((await countEnabledAdmins(reg.db)) > 0) return { created: false, generated: null };
  const generated = password === undefined ? randomSecret(18) : null;
  const secret = password ?? generated!;
  const existing = await findUserByName(reg.db, "admin");
  if (existing) {
    checkPassword(secret);
    // The password first: a crash between the two leaves no enabled admin, so the next start does this again
    // (the other order could leave an enabled admin whose new password was never set, and never shown).
    await replacePassword(reg, existing.id, await hashPassword(secret));
    await updateUser(reg.db, "admin", { role: "admin", disabled: 0 }, reg.now());
    reg.audit.record({ event: "user.changed", actor: "system", outcome: "success", detail: { user: "admin", change: "restored as admin" } });
  } else {
    try {
      await addUser(reg, { name: "admin", role: "admin", kind: "human", password: secret }, "system");
    } catch (error) {
      // Another process starting at the same moment on the same database (serve --workers) made it first.
      if ((await countEnabledAdmins(reg.db)) > 0) return { created: false, generated: null };
      throw error;
    }
  }
  return { created: true, generated };
}
