/**
 * @module GC runs (admins): each run's status, who started it, when, and
 * its report, newest first.
 */
import type { GcRunInfo } from "../../../lib/gc/runs.ts";
import { Empty, ErrorBox, Loading, useApi } from "../components.tsx";

/** The GC page. */
export function GcPage() {
  const { data, error, reload } = useApi<{ runs: GcRunInfo[] }>("/v1/gc");
  if (error) return <ErrorBox error={error} retry={reload} />;
  if (!data) return <Loading />;
  return (
    <section aria-labelledby="gc-title">
      <h1 id="gc-title">Garbage collection</h1>
      <p>
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </p>
      {data.runs.length === 0 ? (
        <Empty title="No GC run yet.">
          <p>
            Run one with <code>mcr gc</code> (add <code>--dry-run</code> to see what it would remove first).
          </p>
        </Empty>
      ) : (
        <ul className="runs">
          {data.runs.map((run) => (
            <li key={run.id}>
              <details>
                <summary>
                  Run {run.id}: <strong>{run.status}</strong> · {run.actor} · started {run.startedAt}
                  {run.finishedAt ? ` · finished ${run.finishedAt}` : ""}
                  {run.options.dryRun ? " · dry run" : ""}
                </summary>
                {run.error && <p className="error">{run.error}</p>}
                <pre className="block">{JSON.stringify(run.report ?? run.progress, null, 2)}</pre>
              </details>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
