/**
 * @module The audit log (admins): the filters of `mcr audit tail` (repo,
 * actor, event, since), newest first, with live updates that ask for
 * events after the newest one shown every two seconds.
 */
import { useEffect, useState } from "react";
import { api, withQuery } from "../api.ts";
import { Empty, ErrorBox, Loading, Table } from "../components.tsx";
import { shortDigest } from "../format.ts";
import type { AuditRecord as AuditEvent } from "../../../lib/audit/audit-events.ts";

const FIELDS = ["repo", "actor", "event", "since"] as const;
type Filter = Record<(typeof FIELDS)[number], string>;

/** The audit page. */
export function AuditPage() {
  const [draft, setDraft] = useState<Filter>({ repo: "", actor: "", event: "", since: "" });
  const [filter, setFilter] = useState<Filter>(draft);
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [live, setLive] = useState(true);
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setEvents(null);
    setError(null);
    api<{ events: AuditEvent[] }>("GET", withQuery("/v1/audit", { ...filter, limit: 200 })).then((page) => {
      if (stop) return;
      let shown = page.events;
      setEvents(shown);
      let after = shown[0]?.id ?? 0;
      const poll = () => {
        api<{ events: AuditEvent[] }>("GET", withQuery("/v1/audit", { ...filter, after, limit: 200 })).then((next) => {
          if (stop) return;
          if (next.events.length > 0) {
            after = next.events[next.events.length - 1]!.id;
            shown = [...next.events.reverse(), ...shown].slice(0, 1000);
            setEvents(shown);
          }
          timer = setTimeout(poll, 2000);
        }, setError);
      };
      if (live) timer = setTimeout(poll, 2000);
    }, setError);
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [filter, live]);
  // since: like `mcr audit tail --since`: 10m, 2h, 7d or a date
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form className="toolbar" onSubmit={(e: { preventDefault(): void }) => (e.preventDefault(), setFilter(draft))} aria-label="Filter events">
        {FIELDS.map((f) => (
          <span key={f}>
            <label htmlFor={`audit-${f}`}>{f}</label>
            <input
              id={`audit-${f}`}
              value={draft[f]}
              placeholder={f === "since" ? "10m, 2h, 7d" : f === "event" ? "tag.deleted, manifest.*" : ""}
              onChange={(e) => setDraft({ ...draft, [f]: e.currentTarget.value })}
            />
          </span>
        ))}
        <button type="submit">Apply</button>
        <label>
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.currentTarget.checked)} /> live
        </label>
      </form>
      {error ? (
        <ErrorBox error={error} retry={() => setFilter({ ...filter })} />
      ) : !events ? (
        <Loading />
      ) : events.length === 0 ? (
        <Empty title="No event matches these filters.">
          <p>Clear a filter or widen “since”.</p>
        </Empty>
      ) : (
        <Table columns={["Time", "Event", "Outcome", "Actor", "Repository", "Tag / digest", "Source"]} className="audit">
          {events.map((e) => (
            <tr key={e.id}>
              <td>{e.time.replace("T", " ").slice(0, 19)}</td>
              <td>{e.event}</td>
              <td>{e.outcome}</td>
              <td>{e.actor}</td>
              <td>{e.repository ?? ""}</td>
              <td title={e.digest ?? undefined}>{e.tag ?? (e.digest ? shortDigest(e.digest) : "")}</td>
              <td>{e.source ?? ""}</td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
