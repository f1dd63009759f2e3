/**
 * @module The login form: a user name and a password or access token.
 * Anonymous visitors who may pull nothing see only this.
 */
import { useState } from "react";
import { api, ApiError, type UiSession } from "../api.ts";

/** The login page; calls `onLogin` with the new session. */
export function LoginPage({ onLogin, reason }: { onLogin: (session: UiSession) => void; reason: string | null }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = (event: { preventDefault(): void }) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    api<UiSession>("POST", "/v1/ui/login", { username, password }).then(
      (session) => onLogin(session),
      (e: unknown) => {
        setBusy(false);
        const status = e instanceof ApiError ? e.status : 0;
        setError(
          status === 401
            ? "Wrong user name, password or token. Check them and try again."
            : status === 429
              ? "Too many failed logins: wait a minute, then try again."
              : e instanceof Error
                ? e.message
                : String(e),
        );
      },
    );
  };
  return (
    <main id="main" className="login">
      <h1>Sign in to the registry</h1>
      {reason && <p className="muted">{reason}</p>}
      <form onSubmit={submit} aria-label="Sign in">
        <label htmlFor="login-user">User name</label>
        <input id="login-user" name="username" autoComplete="username" autoFocus value={username} onChange={(e) => setUsername(e.currentTarget.value)} required />
        <label htmlFor="login-password">Password or access token</label>
        <input id="login-password" name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.currentTarget.value)} required />
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
