/**
 * @module The repository list: search by name, sizes (logical and unique),
 * tag count and last push, a page at a time (the server computes sizes
 * for the page shown only, so it stays fast at 10,000 repositories).
 */
import { useEffect, useState } from "react";
import { withQuery, type BrowsePage } from "../api.ts";
import { Empty, ErrorBox, Loading, Table, useApi } from "../components.tsx";
import { formatAge, formatBytes } from "../format.ts";
import { href } from "../route.ts";

const PAGE = 50;

/** The repositories page. */
export function RepositoriesPage({ initialQuery }: { initialQuery: string }) {
  const [input, setInput] = useState(initialQuery);
  const [query, setQuery] = useState(initialQuery);
  const [cursors, setCursors] = useState<string[]>([]);
  // Searching waits for a pause in typing, so each key press does not cost a request.
  useEffect(() => {
    const timer = setTimeout(() => {
      setQuery(input.trim());
      setCursors([]);
    }, 150);
    return () => clearTimeout(timer);
  }, [input]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const { data, error, loading, reload } = useApi<BrowsePage & { nextCursor: string | null }>(
    withQuery("/v1/browse/repositories", { q: query, limit: PAGE, cursor }),
  );
  const now = Date.now();
  return (
    <section aria-labelledby="repos-title">
      <h1 id="repos-title">Repositories</h1>
      <div className="toolbar">
        <label htmlFor="repo-search">Search</label>
        <input
          id="repo-search"
          type="search"
          placeholder="part of a name"
          value={input}
          onChange={(e) => setInput(e.currentTarget.value)}
        />
        {data && <span className="muted">{data.matched === 1 ? "1 repository" : `${data.matched} repositories`}</span>}
      </div>
      {error ? (
        <ErrorBox error={error} retry={reload} />
      ) : !data ? (
        <Loading />
      ) : data.repositories.length === 0 ? (
        query !== "" ? (
          <Empty title={`No repository you may pull has “${query}” in its name.`}>
            <p>Check the spelling, or search for a shorter part of the name.</p>
          </Empty>
        ) : (
          <Empty title="No repositories you may pull yet.">
            <p>
              Push an image with <code>docker push {location.host}/NAME:TAG</code>, or ask an admin for pull access.
            </p>
          </Empty>
        )
      ) : (
        <>
          <Table columns={["Name", { label: "Tags", num: true }, { label: "Size", num: true }, { label: "Unique", num: true }, "Last push"]} busy={loading}>
            {data.repositories.map((r) => (
              <tr key={r.name}>
                <td>
                  <a href={href("repo", { name: r.name })}>{r.name}</a>
                </td>
                <td className="num">{r.tagCount}</td>
                <td className="num">{formatBytes(r.size)}</td>
                <td className="num" title="bytes no other repository shares">
                  {formatBytes(r.uniqueSize)}
                </td>
                <td>{formatAge(r.lastPushedAt, now)}</td>
              </tr>
            ))}
          </Table>
          <div className="pager">
            <button type="button" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
              Previous
            </button>
            <button type="button" disabled={data.nextCursor === null} onClick={() => setCursors((c) => [...c, data.nextCursor!])}>
              Next
            </button>
          </div>
        </>
      )}
    </section>
  );
}
