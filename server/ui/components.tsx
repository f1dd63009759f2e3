/**
 * @module Small shared pieces of the UI: loading data, errors and empty
 * states that say what to do, copy buttons, and tables.
 */
import { useCallback, useEffect, useState, type ReactNode } from "react";
import { api, ApiError } from "./api.ts";

/** The state of one GET: data, or the error, while `reload` asks again. */
export function useApi<T>(path: string | null): { data: T | null; error: ApiError | null; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | null; error: ApiError | null; loading: boolean }>({ data: null, error: null, loading: path !== null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    api<T>("GET", path).then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: unknown) => live && setState({ data: null, error: error instanceof ApiError ? error : new ApiError(0, String(error)), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** An error with what to do about it. */
export function ErrorBox({ error, retry }: { error: ApiError | Error | string; retry?: () => void }) {
  const message = typeof error === "string" ? error : error.message;
  const status = error instanceof ApiError ? error.status : 0;
  const hint =
    status === 403
      ? "Your account may not do this; ask an admin to change the access policy."
      : status === 404
        ? "It may have been deleted, or you may not be allowed to see it."
        : status >= 500
          ? "The server failed; its log says why."
          : null;
  return (
    <div className="error" role="alert">
      <p>{message}</p>
      {hint && <p className="muted">{hint}</p>}
      {retry && (
        <button type="button" onClick={() => retry()}>
          Retry
        </button>
      )}
    </div>
  );
}

/** Nothing to show, and how to change that. */
export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}

/** A loading line, announced to screen readers. */
export function Loading() {
  return (
    <p className="muted" role="status">
      Loading…
    </p>
  );
}

/** A button that copies `text` and says so. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState<"copied" | "failed" | null>(null);
  const copy = () => {
    const write = navigator.clipboard?.writeText(text) ?? Promise.reject(new Error("no clipboard"));
    write.then(
      () => setDone("copied"),
      () => setDone("failed"),
    );
    setTimeout(() => setDone(null), 2000);
  };
  return (
    <button type="button" className="copy" onClick={copy} aria-label={`${label}: ${text}`} title={text} data-copy={text}>
      {done === "copied" ? "Copied" : done === "failed" ? "Select and copy" : label}
    </button>
  );
}

/** A command shown in full with its copy button. */
export function Command({ text, label }: { text: string; label: string }) {
  return (
    <div className="command">
      <code>{text}</code>
      <CopyButton text={text} label={label} />
    </div>
  );
}

/** Key/value rows (annotations, labels); an empty map shows `none`. */
export function KeyValues({ values, empty = "none" }: { values: Record<string, string>; empty?: string }) {
  const entries = Object.entries(values);
  if (entries.length === 0) return <p className="muted">{empty}</p>;
  return (
    <dl className="kv">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A column heading: its label, or the label of a column of numbers (right-aligned); false leaves the column out. */
export type Column = string | { label: string; num?: boolean } | false;

/** A table that scrolls sideways on a narrow screen: a heading row of `columns`, and `children` as its rows. */
export function Table({ columns, className, busy, children }: { columns: Column[]; className?: string; busy?: boolean; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table className={className} aria-busy={busy === undefined ? undefined : busy ? "true" : "false"}>
        <thead>
          <tr>
            {columns.map((column) => {
              if (column === false) return null;
              const { label, num } = typeof column === "string" ? { label: column, num: false } : column;
              return (
                <th key={label} scope="col" className={num ? "num" : undefined}>
                  {label}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
