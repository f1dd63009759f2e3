/**
 * @module One repository: its tags sorted by push time or name, each with
 * digest, type, platforms, size, pushed and last pulled, copyable pull
 * commands, and a delete button where the viewer may delete (confirmed
 * first; the server checks the policy again and audits it). The server
 * sorts and filters, and sends one page of tags at a time.
 */
import { useEffect, useState } from "react";
import { api, ApiError, withQuery, type BrowseRepository } from "../api.ts";
import { CopyButton, Empty, ErrorBox, Loading, Table, useApi } from "../components.tsx";
import { formatAge, formatBytes, manifestKind, shortDigest } from "../format.ts";
import { pullCommands } from "../pull.ts";
import { href } from "../route.ts";
import type { TagOrder } from "../../../lib/registry/tag-order.ts";

const PAGE = 100;

/** The repository page. */
export function RepositoryPage({ name }: { name: string }) {
  const [order, setOrder] = useState<TagOrder>("pushed");
  const [input, setInput] = useState("");
  const [filter, setFilter] = useState("");
  const [offset, setOffset] = useState(0);
  const [failure, setFailure] = useState<ApiError | null>(null);
  useEffect(() => {
    const timer = setTimeout(() => (setFilter(input.trim()), setOffset(0)), 150);
    return () => clearTimeout(timer);
  }, [input]);
  const { data, error, reload } = useApi<BrowseRepository & { canDelete: boolean }>(
    withQuery("/v1/browse/repository", { name, sort: order, q: filter, offset, limit: PAGE }),
  );
  const tags = data?.tags ?? [];
  if (error) return <ErrorBox error={error} retry={reload} />;
  if (!data) return <Loading />;
  const now = Date.now();
  const remove = (tag: string) => {
    if (!confirm(`Delete tag ${tag} of ${name}? The image stays if other tags or digests name it.`)) return;
    api("DELETE", withQuery("/v1/browse/manifest", { name, reference: tag })).then(
      () => (setFailure(null), reload()),
      (e: ApiError) => setFailure(e),
    );
  };
  return (
    <section aria-labelledby="repo-title">
      <p className="crumbs">
        <a href={href("repos")}>Repositories</a> /
      </p>
      <h1 id="repo-title">{name}</h1>
      <p className="muted">
        {data.tagCount} tags · {formatBytes(data.size)} ({formatBytes(data.uniqueSize)} unique) · last push {formatAge(data.lastPushedAt, now)}
      </p>
      {failure && <ErrorBox error={failure} />}
      <div className="toolbar">
        <label htmlFor="tag-filter">Filter tags</label>
        <input id="tag-filter" type="search" value={input} onChange={(e) => setInput(e.currentTarget.value)} />
        <label htmlFor="tag-order">Sort by</label>
        <select id="tag-order" value={order} onChange={(e) => (setOrder(e.currentTarget.value as TagOrder), setOffset(0))}>
          <option value="pushed">newest push</option>
          <option value="name">name</option>
        </select>
      </div>
      {data.tagCount === 0 ? (
        <Empty title="This repository has no tags.">
          <p>
            Push one with <code>docker push {location.host}/{name}:TAG</code>; untagged manifests are removed by GC.
          </p>
        </Empty>
      ) : tags.length === 0 ? (
        <Empty title={`No tag has “${filter}” in its name.`} />
      ) : (
        <Table columns={["Tag", "Digest", "Type", "Platforms", { label: "Size", num: true }, "Pushed", "Last pulled", "Pull", data.canDelete && "Delete"]}>
          {tags.map((t) => {
            const cmd = pullCommands(location.host, name, t.name, t.digest);
            return (
              <tr key={t.name}>
                <td>
                  <a href={href("image", { name, ref: t.digest, tag: t.name })}>{t.name}</a>
                </td>
                <td>
                  <code title={t.digest}>{shortDigest(t.digest)}</code>
                </td>
                <td>
                  {manifestKind(t.mediaType, t.artifactType)}
                  {t.artifactType && <div className="muted small">{t.artifactType}</div>}
                </td>
                <td>{t.platforms.join(", ") || "–"}</td>
                <td className="num">{formatBytes(t.size)}</td>
                <td>{formatAge(t.pushedAt, now)}</td>
                <td>{formatAge(t.lastPulledAt, now)}</td>
                <td className="actions">
                  <div className="buttons">
                    <CopyButton text={cmd.byTag!} label="by tag" />
                    <CopyButton text={cmd.byDigest} label="by digest" />
                  </div>
                </td>
                {data.canDelete && (
                  <td>
                    <button type="button" className="danger" onClick={() => remove(t.name)} aria-label={`Delete tag ${t.name}`}>
                      Delete
                    </button>
                  </td>
                )}
              </tr>
            );
          })}
        </Table>
      )}
      {data.matchedTags > PAGE && (
        <div className="pager">
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            Previous
          </button>
          <span className="muted">
            {offset + 1}–{Math.min(offset + PAGE, data.matchedTags)} of {data.matchedTags}
          </span>
          <button type="button" disabled={offset + PAGE >= data.matchedTags} onClick={() => setOffset(offset + PAGE)}>
            Next
          </button>
        </div>
      )}
    </section>
  );
}
