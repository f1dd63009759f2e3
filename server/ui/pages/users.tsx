/**
 * @module Users and access tokens (admins), read only: `mcr user` and
 * `mcr token` change them.
 */
import type { TokenInfo } from "../../../lib/auth/tokens.ts";
import type { UserInfo } from "../../../lib/auth/users.ts";
import { ErrorBox, Loading, Table, useApi } from "../components.tsx";
import { formatAge, formatDate } from "../format.ts";

/** The users and tokens page. */
export function UsersPage() {
  const users = useApi<{ users: UserInfo[] }>("/v1/users");
  const tokens = useApi<{ tokens: TokenInfo[] }>("/v1/tokens?kind=token");
  const now = Date.now();
  return (
    <section aria-labelledby="users-title">
      <h1 id="users-title">Users</h1>
      <p className="muted">
        Change them with <code>mcr user</code> and <code>mcr token</code>.
      </p>
      {users.error ? (
        <ErrorBox error={users.error} retry={users.reload} />
      ) : !users.data ? (
        <Loading />
      ) : (
        <Table columns={["Name", "Role", "Kind", "State", "Created"]}>
          {users.data.users.map((u) => (
            <tr key={u.name}>
              <td>{u.name}</td>
              <td>{u.role}</td>
              <td>{u.kind}</td>
              <td>{u.disabled ? "disabled" : "active"}</td>
              <td>{formatDate(u.createdAt)}</td>
            </tr>
          ))}
        </Table>
      )}
      <h2>Access tokens</h2>
      {tokens.error ? (
        <ErrorBox error={tokens.error} retry={tokens.reload} />
      ) : !tokens.data ? (
        <Loading />
      ) : tokens.data.tokens.length === 0 ? (
        <p className="muted">
          No access tokens. Create one with <code>mcr token create USER NAME</code>.
        </p>
      ) : (
        <Table columns={["Id", "User", "Label", "Created", "Expires", "Last used", "State"]}>
          {tokens.data.tokens.map((t) => (
            <tr key={t.id}>
              <td>
                <code>{t.id}</code>
              </td>
              <td>{t.user}</td>
              <td>{t.label}</td>
              <td>{formatDate(t.createdAt)}</td>
              <td>{t.expiresAt === null ? "never" : formatDate(t.expiresAt)}</td>
              <td>{formatAge(t.lastUsedAt, now)}</td>
              <td>{t.revokedAt !== null ? "revoked" : t.expiresAt !== null && t.expiresAt < now ? "expired" : "active"}</td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
