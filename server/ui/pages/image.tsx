/**
 * @module One manifest: for an index, its platforms; for an image, its
 * config (created, entrypoint, cmd, env, labels, ports, history) and
 * layers; its annotations; and the referrers tree (signatures, SBOMs,
 * attestations). Every value comes from a client and is shown as text.
 */
import { api, ApiError, withQuery, type ImageView } from "../api.ts";
import { Command, Empty, ErrorBox, KeyValues, Loading, Table, useApi } from "../components.tsx";
import { useState } from "react";
import { formatBytes, formatDate, shortDigest } from "../format.ts";
import { pullCommands } from "../pull.ts";
import { href } from "../route.ts";
import { countKinds, flattenReferrers } from "../tree.ts";

/** The image page. */
export function ImagePage({ name, reference, tag }: { name: string; reference: string; tag: string | null }) {
  const { data, error, reload } = useApi<ImageView & { canDelete: boolean }>(withQuery("/v1/browse/manifest", { name, reference }));
  const [failure, setFailure] = useState<ApiError | null>(null);
  if (error) return <ErrorBox error={error} retry={reload} />;
  if (!data) return <Loading />;
  const cmd = pullCommands(location.host, name, tag, data.digest);
  const remove = () => {
    if (!confirm(`Delete manifest ${shortDigest(data.digest)} of ${name}, with every tag that names it?`)) return;
    api("DELETE", withQuery("/v1/browse/manifest", { name, reference: data.digest })).then(
      () => (location.hash = href("repo", { name })),
      (e: ApiError) => setFailure(e),
    );
  };
  return (
    <section aria-labelledby="image-title">
      <p className="crumbs">
        <a href={href("repos")}>Repositories</a> / <a href={href("repo", { name })}>{name}</a> /
      </p>
      <h1 id="image-title">
        {name}
        {tag ? `:${tag}` : ""}
      </h1>
      <p>
        <span className={`badge ${data.kind}`}>{data.kind}</span> <code className="wrap">{data.digest}</code>
      </p>
      <p className="muted">
        {data.mediaType}
        {data.artifactType ? ` · artifact type ${data.artifactType}` : ""} · manifest {formatBytes(data.size)} · pushed {formatDate(data.pushedAt)} · last pulled{" "}
        {data.lastPulledAt === null ? "never" : formatDate(data.lastPulledAt)}
      </p>
      {cmd.byTag && <Command text={cmd.byTag} label="Copy pull by tag" />}
      <Command text={cmd.byDigest} label="Copy pull by digest" />
      {failure && <ErrorBox error={failure} />}
      {data.subject && (
        <p>
          Refers to <a href={href("image", { name, ref: data.subject })}>{shortDigest(data.subject)}</a>
        </p>
      )}
      {data.kind === "index" && <Platforms name={name} data={data} />}
      {data.config && <Config config={data.config} />}
      {data.kind !== "index" && <Layers data={data} />}
      <h2>Annotations</h2>
      <KeyValues values={data.annotations} />
      <Referrers name={name} data={data} />
      {data.canDelete && (
        <p>
          <button type="button" className="danger" onClick={remove}>
            Delete this manifest
          </button>
        </p>
      )}
    </section>
  );
}

function Platforms({ name, data }: { name: string; data: ImageView }) {
  return (
    <>
      <h2>Platforms</h2>
      {data.manifests.length === 0 ? (
        <p className="muted">This index lists no manifests.</p>
      ) : (
        <ul className="list">
          {data.manifests.map((m) => (
            <li key={m.digest}>
              <a href={href("image", { name, ref: m.digest })}>{m.platform ?? m.artifactType ?? "unknown platform"}</a>{" "}
              <code>{shortDigest(m.digest)}</code> <span className="muted">{formatBytes(m.size)}</span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function Config({ config }: { config: NonNullable<ImageView["config"]> }) {
  const line = (value: string[] | null) => (value === null || value.length === 0 ? "–" : JSON.stringify(value));
  return (
    <>
      <h2>Config</h2>
      <dl className="kv">
        <div>
          <dt>Created</dt>
          <dd>{config.created ?? "–"}</dd>
        </div>
        <div>
          <dt>Platform</dt>
          <dd>{config.platform ?? "–"}</dd>
        </div>
        <div>
          <dt>Entrypoint</dt>
          <dd>
            <code>{line(config.entrypoint)}</code>
          </dd>
        </div>
        <div>
          <dt>Cmd</dt>
          <dd>
            <code>{line(config.cmd)}</code>
          </dd>
        </div>
        <div>
          <dt>Working dir</dt>
          <dd>{config.workingDir || "–"}</dd>
        </div>
        <div>
          <dt>User</dt>
          <dd>{config.user || "–"}</dd>
        </div>
        <div>
          <dt>Exposed ports</dt>
          <dd>{config.exposedPorts.join(", ") || "–"}</dd>
        </div>
      </dl>
      <h3>Environment</h3>
      {config.env.length === 0 ? <p className="muted">none</p> : <pre className="block">{config.env.join("\n")}</pre>}
      <h3>Labels</h3>
      <KeyValues values={config.labels} />
      <details>
        <summary>History ({config.history.length} steps)</summary>
        <ol className="history">
          {config.history.map((h, i) => (
            <li key={i}>
              <code>{h.createdBy ?? "–"}</code>
              <span className="muted">
                {" "}
                {h.created ?? ""}
                {h.emptyLayer ? " · no layer" : ""}
                {h.comment ? ` · ${h.comment}` : ""}
              </span>
            </li>
          ))}
        </ol>
      </details>
    </>
  );
}

function Layers({ data }: { data: ImageView }) {
  const total = data.layers.reduce((n, l) => n + l.size, 0);
  return (
    <>
      <h2>Layers ({data.layers.length}, {formatBytes(total)})</h2>
      {data.layers.length === 0 ? (
        <p className="muted">No layers.</p>
      ) : (
        <Table columns={["#", "Digest", "Media type", { label: "Size", num: true }]}>
          {data.layers.map((l, i) => (
            <tr key={`${i}-${l.digest}`}>
              <td>{i + 1}</td>
              <td>
                <code title={l.digest}>{shortDigest(l.digest)}</code>
              </td>
              <td>{l.mediaType}</td>
              <td className="num">{formatBytes(l.size)}</td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}

function Referrers({ name, data }: { name: string; data: ImageView }) {
  const rows = flattenReferrers(data.referrers);
  const counts = countKinds(data.referrers);
  return (
    <>
      <h2>Referrers</h2>
      {rows.length === 0 ? (
        <Empty title="Nothing refers to this manifest.">
          <p className="muted">Signatures, SBOMs and attestations pushed with it as their subject show here.</p>
        </Empty>
      ) : (
        <>
          <p className="muted">
            {counts.signature} signatures · {counts.sbom} SBOMs · {counts.attestation} attestations · {counts.artifact} other
          </p>
          <ul className="tree" aria-label="Referrers">
            {rows.map((r, i) => (
              <li key={`${i}-${r.node.digest}`} className={`depth-${Math.min(r.depth, 4)}`}>
                <span className={`badge ${r.kind}`}>{r.kind}</span> <a href={href("image", { name, ref: r.node.digest })}>{shortDigest(r.node.digest)}</a>{" "}
                <span className="muted">
                  {r.node.artifactType ?? r.node.mediaType} · {formatBytes(r.node.size)}
                </span>
                {r.node.annotations && Object.keys(r.node.annotations).length > 0 && <KeyValues values={r.node.annotations} />}
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}
