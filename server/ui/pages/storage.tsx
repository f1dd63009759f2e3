/**
 * @module Storage: per repository, a bar of its unique bytes and the bytes
 * it shares with others; the totals; and (for admins) how the stored
 * bytes grew, day by day, from the blobs pushed.
 */
import { type StorageView } from "../api.ts";
import { Empty, ErrorBox, Loading, useApi } from "../components.tsx";
import { formatBytes, formatDate, percent } from "../format.ts";
import { href } from "../route.ts";

const SHOWN = 200;

/** The storage page. */
export function StoragePage() {
  const { data, error, reload } = useApi<StorageView>("/v1/browse/storage");
  if (error) return <ErrorBox error={error} retry={reload} />;
  if (!data) return <Loading />;
  const largest = data.repositories[0]?.size ?? 0;
  return (
    <section aria-labelledby="storage-title">
      <h1 id="storage-title">Storage</h1>
      <p>
        {data.repositories.length} repositories · {formatBytes(data.totals.size)} in all · {formatBytes(data.totals.uniqueSize)} unique ·{" "}
        {formatBytes(data.totals.shared)} shared
      </p>
      <p className="legend">
        <span className="swatch unique" /> unique (freed by deleting the repository) <span className="swatch shared" /> shared with other repositories
      </p>
      {data.repositories.length === 0 ? (
        <Empty title="No repositories you may pull yet." />
      ) : (
        <ul className="bars">
          {data.repositories.slice(0, SHOWN).map((r) => (
            <li key={r.name}>
              <a href={href("repo", { name: r.name })}>{r.name}</a>
              <span className="bar" role="img" aria-label={`${formatBytes(r.uniqueSize)} unique, ${formatBytes(r.size - r.uniqueSize)} shared`}>
                <span className="unique" style={{ width: `${percent(r.uniqueSize, largest)}%` }} />
                <span className="shared" style={{ width: `${percent(r.size - r.uniqueSize, largest)}%` }} />
              </span>
              <span className="num">{formatBytes(r.size)}</span>
            </li>
          ))}
        </ul>
      )}
      {data.repositories.length > SHOWN && <p className="muted">The {SHOWN} largest are shown.</p>}
      {data.growth && <Growth growth={data.growth} />}
    </section>
  );
}

function Growth({ growth }: { growth: NonNullable<StorageView["growth"]> }) {
  if (growth.length === 0) return <Empty title="No blobs were pushed in the last 90 days." />;
  const max = Math.max(...growth.map((g) => g.total), 1);
  const first = growth[0]!.day;
  const days = Math.max(Math.round((growth[growth.length - 1]!.day - first) / 86_400_000) + 1, 1);
  const width = 100 / days;
  return (
    <>
      <h2>Growth</h2>
      <p className="muted">
        Stored bytes from {formatDate(first)} ({formatBytes(growth[0]!.total)}) to now ({formatBytes(growth[growth.length - 1]!.total)}), from the blobs
        pushed each day that are still stored.
      </p>
      <svg className="growth" viewBox="0 0 100 40" preserveAspectRatio="none" role="img" aria-label="stored bytes at the end of each day with pushes">
        {growth.map((g) => {
          const h = Math.max((g.total / max) * 38, 0.5);
          const x = ((g.day - first) / 86_400_000) * width;
          return <rect key={g.day} x={x} y={40 - h} width={Math.max(width * 0.8, 0.4)} height={h} />;
        })}
      </svg>
    </>
  );
}
