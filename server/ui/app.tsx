/**
 * @module The app shell: who is logged in, the navigation (admins get the
 * audit log, GC, users and policy), and the page the URL fragment names.
 * Without a session the visitor sees what anonymous may pull, or, when
 * that is nothing, only the login form.
 */
import { useEffect, useState } from "react";
import { api, setCsrf, whenLoggedOut, type BrowsePage, type UiSession } from "./api.ts";
import { ErrorBox, Loading } from "./components.tsx";
import { AuditPage } from "./pages/audit.tsx";
import { GcPage } from "./pages/gc.tsx";
import { ImagePage } from "./pages/image.tsx";
import { LoginPage } from "./pages/login.tsx";
import { PolicyPage } from "./pages/policy.tsx";
import { RepositoriesPage } from "./pages/repositories.tsx";
import { RepositoryPage } from "./pages/repository.tsx";
import { StoragePage } from "./pages/storage.tsx";
import { UsersPage } from "./pages/users.tsx";
import { href, parseRoute, type Route } from "./route.ts";

const ADMIN_PAGES = new Set(["audit", "gc", "users", "policy"]);

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => {
      setRoute(parseRoute(location.hash));
      // A new page: move focus to its content, as a page load would.
      document.getElementById("main")?.focus();
    };
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

/** The whole UI. */
export function App() {
  const route = useRoute();
  const [session, setSession] = useState<UiSession | null>(null);
  /** Whether anonymous visitors may see any repository (if not, they get only the login form). */
  const [anonymousSees, setAnonymousSees] = useState<boolean | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [reason, setReason] = useState<string | null>(null);

  const adopt = (s: UiSession) => {
    setCsrf(s.csrf);
    setSession(s);
  };
  useEffect(() => {
    whenLoggedOut(() => {
      setReason("Your session ended: sign in again.");
      adopt({ user: null, csrf: null, expiresAt: null });
    });
    api<UiSession>("GET", "/v1/ui/session").then(adopt, setError);
  }, []);
  useEffect(() => {
    if (session && session.user === null && anonymousSees === null) {
      api<BrowsePage>("GET", "/v1/browse/repositories?limit=1").then(
        (page) => setAnonymousSees(page.matched > 0),
        () => setAnonymousSees(false),
      );
    }
  }, [session, anonymousSees]);

  if (error) return <ErrorBox error={error} retry={() => location.reload()} />;
  if (!session || (session.user === null && anonymousSees === null)) return <Loading />;
  const wantsLogin = route.page === "login" || (session.user === null && !anonymousSees);
  if (session.user === null && wantsLogin) {
    return (
      <LoginPage
        reason={reason}
        onLogin={(s) => {
          adopt(s);
          setReason(null);
          if (route.page === "login") location.hash = href("repos");
        }}
      />
    );
  }
  const admin = session.user?.role === "admin";
  const logout = () => api("POST", "/v1/ui/logout").finally(() => adopt({ user: null, csrf: null, expiresAt: null }));
  const nav = [
    ["repos", "Repositories"],
    ["storage", "Storage"],
    ...(admin ? [["audit", "Audit log"], ["gc", "GC"], ["users", "Users & tokens"], ["policy", "Policy"]] : []),
  ] as const;
  const current = route.page === "repo" || route.page === "image" ? "repos" : route.page;
  return (
    <>
      <a className="skip" href="#main" onClick={(e: { preventDefault(): void }) => (e.preventDefault(), document.getElementById("main")?.focus())}>
        Skip to content
      </a>
      <header className="top">
        <a className="brand" href={href("repos")}>
          mcr
        </a>
        <nav aria-label="Main">
          {nav.map(([page, label]) => (
            <a key={page} href={href(page)} aria-current={current === page ? "page" : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <div className="who">
          {session.user ? (
            <>
              <span>
                {session.user.name}
                {admin ? " (admin)" : ""}
              </span>
              <button type="button" onClick={logout}>
                Sign out
              </button>
            </>
          ) : (
            <a href={href("login")}>Sign in</a>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {ADMIN_PAGES.has(route.page) && !admin ? <ErrorBox error="This page is for admins only." /> : page(route)}
      </main>
    </>
  );
}

function page(route: Route) {
  const p = (name: string) => route.params.get(name) ?? "";
  switch (route.page) {
    case "repo":
      return <RepositoryPage name={p("name")} />;
    case "image":
      return <ImagePage name={p("name")} reference={p("ref")} tag={route.params.get("tag")} />;
    case "storage":
      return <StoragePage />;
    case "audit":
      return <AuditPage />;
    case "gc":
      return <GcPage />;
    case "users":
      return <UsersPage />;
    case "policy":
      return <PolicyPage />;
    default:
      return <RepositoriesPage initialQuery={p("q")} />;
  }
}
