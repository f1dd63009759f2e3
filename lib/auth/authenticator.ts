/**
 * @module Turns credentials into identities: passwords and access tokens
 * (throttled and audited), registry JWTs (verified, then re-checked
 * against the account and the token they came from), and issues JWTs.
 */
import { fail } from "../errors.ts";
import { changeStamp } from "../db/changes.ts";
import { findToken } from "../db/queries/tokens.ts";
import { findAccountState, findUserByName, type AccountState as AccountRow } from "../db/queries/users.ts";
import type { AccessToken, TokenKind, User } from "../db/schema.ts";
import type { Registry } from "../registry/registry.ts";
import { ANONYMOUS, actorOf, type Identity, type UserIdentity } from "./identity.ts";
import { signJwt, verifyJwt, type AccessClaim, type TokenClaims } from "./jwt.ts";
import { grantScopes, type Scope } from "./scope.ts";
import { hashSecret, verifyDecoy, verifyPassword } from "./secrets.ts";
import type { SigningKey } from "./signing-key.ts";
import { addressGroup } from "./address-group.ts";
import { DbLoginThrottle, fingerprintKey } from "./db-throttle.ts";
import type { LoginKey, LoginThrottle } from "./throttle.ts";
import { isTokenString, resolveToken, tokenRowIsLive } from "./tokens.ts";

/** What a JWT's use depends on in the database, as read at `stamp`. */
interface AccountState {
  stamp: string;
  user: AccountRow | undefined;
  token: AccessToken | undefined;
}

/** Authentication settings. */
export interface AuthOptions {
  /** Lifetime of registry JWTs, in seconds. */
  tokenTtlSeconds: number;
  /** Where failed logins are counted; the database by default, shared by every process. */
  throttle?: LoginThrottle;
}

/** What a credential check found: who, or a wrong secret (and whether it was one already tried). */
type CheckResult = { identity: UserIdentity } | { identity: null; fingerprint: string; repeat: boolean };

/** A password check is remembered this long, so Basic auth on every request stays cheap. */
const PASSWORD_CACHE_MS = 5 * 60 * 1000;
const MAX_CACHE = 1000;
/** Registry JWTs whose signature was checked, remembered until they expire. */
const MAX_VERIFIED_JWTS = 10_000;
/** Longest user name or secret looked at. */
const MAX_CREDENTIAL_LENGTH = 1024;
/** Account names are at most this long; longer names are counted under their first characters. */
const MAX_ACCOUNT_KEY = 64;

/** A registry token as the token endpoint returns it. */
export interface IssuedToken {
  token: string;
  expiresIn: number;
  issuedAt: string;
  access: AccessClaim[];
}

/** Authenticates requests against one registry's accounts. */
export class Authenticator {
  readonly throttle: LoginThrottle;
  private readonly verified = new Map<string, { passwordHash: string; at: number }>();
  /**
   * Claims of JWTs already verified, by token string (with the audience they were checked for). A
   * signature check (Ed25519, ~60 µs) gives the same answer for the same
   * bytes every time, so it is done once per token; expiry is still checked
   * on every use, and the account and token behind it are still re-read.
   */
  private readonly jwtClaims = new Map<string, TokenClaims>();
  /** Account (and token) rows behind JWTs, with the change stamp they were read at. */
  private readonly accounts = new Map<string, AccountState>();

  constructor(
    private readonly reg: Registry,
    private readonly key: SigningKey,
    private readonly options: AuthOptions,
  ) {
    this.throttle = options.throttle ?? new DbLoginThrottle(reg.db, fingerprintKey(key), () => reg.now());
  }

  /**
   * Checks a user name with a password or access token. Throws
   * TOO_MANY_REQUESTS while throttled and UNAUTHORIZED on failure. A wrong
   * secret that was checked is audited one event each; attempts answered
   * without a check (throttled, or a secret already found wrong from the
   * same client, as clients retry) are tallied per account and client.
   * Successes are audited when `auditSuccess` (a login, not Basic
   * credentials repeated on every registry request).
   */
  async login(username: string, secret: string, source: string | null, auditSuccess = true): Promise<UserIdentity> {
    const account = username.slice(0, MAX_ACCOUNT_KEY);
    const key: LoginKey = { account, group: addressGroup(source) };
    const actor = `user:${account}`;
    const tally = (reason: string, outcome: "failure" | "denied") =>
      this.reg.audit.count(`login\0${reason}\0${account}\0${key.group.client}`, key.group.client, {
        event: "login",
        actor,
        outcome,
        source: key.group.client,
        detail: { reason },
      });
    const wait = await this.throttle.retryAfter(key);
    if (wait > 0) {
      tally("throttled", "denied");
      fail("TOO_MANY_REQUESTS", "too many failed logins; try again later", { retryAfter: wait });
    }
    const result = await this.check(username, secret, key);
    if (result.identity === null) {
      if (result.repeat) {
        tally("repeated", "failure");
      } else {
        await this.throttle.failure(key, result.fingerprint);
        this.reg.audit.record({ event: "login", actor, outcome: "failure", source });
      }
      fail("UNAUTHORIZED", "invalid username or password");
    }
    const identity = result.identity;
    await this.throttle.success(key);
    if (auditSuccess) this.reg.audit.record({ event: "login", actor: actorOf(identity), outcome: "success", source, detail: { via: identity.via } });
    return identity;
  }

  /**
   * Checks the secret. A secret this client already got wrong for this
   * account, against the same password hash, is answered without argon2:
   * retries cost nothing and do not count as new guesses.
   */
  private async check(username: string, secret: string, key: LoginKey): Promise<CheckResult> {
    const wrong = async (stamp: string, verify: () => Promise<UserIdentity | null>): Promise<CheckResult> => {
      const fingerprint = this.throttle.fingerprint(stamp, secret.slice(0, MAX_CREDENTIAL_LENGTH + 1));
      if (await this.throttle.isRepeat(key, fingerprint)) return { identity: null, fingerprint, repeat: true };
      const identity = await verify();
      return identity ? { identity } : { identity: null, fingerprint, repeat: false };
    };
    if (username.length > MAX_CREDENTIAL_LENGTH || secret.length > MAX_CREDENTIAL_LENGTH) return wrong("too-long", async () => null);
    if (isTokenString(secret)) {
      return wrong("token", async () => {
        const found = await resolveToken(this.reg, secret, "token");
        return found && found.user.name === username ? toIdentity(found.user, "token", found.tokenId) : null;
      });
    }
    const user = await findUserByName(this.reg.db, username);
    if (!user || user.disabled !== 0 || user.password_hash === null) return wrong("no-password", () => verifyDecoy(secret).then(() => null));
    const hash = user.password_hash;
    const cacheKey = `${username}\0${hashSecret(secret)}`;
    const cached = this.verified.get(cacheKey);
    const now = this.reg.now();
    if (cached && cached.passwordHash === hash && now - cached.at < PASSWORD_CACHE_MS) {
      return { identity: { ...toIdentity(user, "password", null), passwordVersion: user.password_version } };
    }
    // The stamp is the hash checked against: after a password change the same secret is checked again.
    return wrong(hash, async () => {
      if (!(await verifyPassword(secret, hash))) return null;
      this.verified.set(cacheKey, { passwordHash: hash, at: now });
      if (this.verified.size > MAX_CACHE) this.verified.delete(this.verified.keys().next().value!);
      return { ...toIdentity(user, "password", null), passwordVersion: user.password_version };
    });
  }

  /** The live account behind an access token used as a bearer (a session for /v1, a personal token for /v2). */
  async fromAccessToken(value: string, kind: TokenKind): Promise<UserIdentity> {
    const found = await resolveToken(this.reg, value, kind);
    if (!found) fail("UNAUTHORIZED", "invalid, expired or revoked token");
    return toIdentity(found.user, kind === "session" ? "session" : "token", found.tokenId);
  }

  /**
   * Verifies a registry JWT and re-checks that its account (and token) are
   * still live. `dataVersion` is the one the request's policy check just
   * read: the account and token rows read for an earlier request are
   * reused while the database has not changed since (lib/db/changes.ts):
   * any commit by another process or write by this one reads them again,
   * so disabling, removing, revoking or a password change acts on the next request.
   */
  async fromJwt(token: string, audience: string, dataVersion: number): Promise<{ identity: Identity; access: AccessClaim[] }> {
    const claims = this.verifyJwtOnce(token, audience);
    if (claims.sub === "") return { identity: ANONYMOUS, access: claims.access };
    const { user, token: issuedFrom } = await this.accountState(claims.sub, claims.tid, dataVersion);
    if (!user || user.disabled !== 0 || user.id !== claims.uid) fail("UNAUTHORIZED", "account disabled or removed");
    if (claims.tid !== undefined && !tokenRowIsLive(issuedFrom, this.reg.now())) fail("UNAUTHORIZED", "token revoked");
    // Issued from a password (no token): it ends when the password changes. JWTs from before migration 5 carry none, as version 0.
    if (claims.tid === undefined && (claims.pwv ?? 0) !== user.password_version) fail("UNAUTHORIZED", "the password changed; log in again");
    return { identity: toIdentity(user, "jwt", claims.tid ?? null), access: claims.access };
  }

  /** The rows behind a JWT: read now, or reused when nothing has been written since they were read. */
  private async accountState(sub: string, tid: string | undefined, dataVersion: number): Promise<AccountState> {
    // Taken before the reads: rows read after a stamp are at least as new as it.
    const stamp = changeStamp(this.reg.db, dataVersion);
    const key = `${sub}\u0000${tid ?? ""}`;
    const known = this.accounts.get(key);
    if (known && known.stamp === stamp) return known;
    const state: AccountState = {
      stamp,
      user: await findAccountState(this.reg.db, sub),
      token: tid === undefined ? undefined : await findToken(this.reg.db, tid),
    };
    if (this.accounts.size >= MAX_CACHE) this.accounts.delete(this.accounts.keys().next().value!);
    this.accounts.set(key, state);
    return state;
  }

  private verifyJwtOnce(token: string, audience: string): TokenClaims {
    const now = Math.floor(this.reg.now() / 1000);
    const known = this.jwtClaims.get(token);
    // The audience is part of what was verified: a token checked for another host is checked again.
    if (known && known.aud === audience) {
      if (known.exp > now) return known;
      this.jwtClaims.delete(token);
      fail("UNAUTHORIZED", "token expired");
    }
    const claims = verifyJwt(this.key, token, audience, now);
    if (this.jwtClaims.size >= MAX_VERIFIED_JWTS) this.jwtClaims.delete(this.jwtClaims.keys().next().value!);
    this.jwtClaims.set(token, claims);
    return claims;
  }

  /** Signs a registry JWT granting the part of `scopes` that `identity` may have. */
  async issue(identity: Identity, scopes: readonly Scope[], audience: string): Promise<IssuedToken> {
    const access = await grantScopes(this.reg.policy, identity, scopes);
    const iat = Math.floor(this.reg.now() / 1000);
    const claims = {
      sub: identity.kind === "user" ? identity.name : "",
      aud: audience,
      iat,
      nbf: iat - 1,
      exp: iat + this.options.tokenTtlSeconds,
      jti: crypto.randomUUID(),
      access,
      ...(identity.kind === "user" ? { uid: identity.userId } : {}),
      ...(identity.kind === "user" && identity.tokenId ? { tid: identity.tokenId } : {}),
      ...(identity.kind === "user" && !identity.tokenId ? { pwv: identity.passwordVersion ?? 0 } : {}),
    };
    return { token: signJwt(this.key, claims), expiresIn: this.options.tokenTtlSeconds, issuedAt: new Date(iat * 1000).toISOString(), access };
  }
}

function toIdentity(user: Pick<User, "id" | "name" | "role" | "kind">, via: UserIdentity["via"], tokenId: string | null): UserIdentity {
  return { kind: "user", userId: user.id, name: user.name, role: user.role, userKind: user.kind, via, tokenId };
}
