/**
 * @module The access policy (admins), read only, with an explain form:
 * "may USER do ACTION on REPO?", answered with the rules that decided.
 */
import { useState } from "react";
import type { Decision } from "../../../lib/policy/evaluate.ts";
import type { Rule } from "../../../lib/policy/rule.ts";
import { api, withQuery } from "../api.ts";
import { Empty, ErrorBox, Loading, Table, useApi } from "../components.tsx";

const ACTIONS = ["pull", "push", "delete", "catalog", "overwrite"];

/** The policy page. */
export function PolicyPage() {
  const { data, error, reload } = useApi<{ rules: Rule[] }>("/v1/policy");
  const [form, setForm] = useState({ user: "", action: "pull", repo: "" });
  const [answer, setAnswer] = useState<(Decision & { subject: string }) | null>(null);
  const [failure, setFailure] = useState<Error | null>(null);
  const explain = (event: { preventDefault(): void }) => {
    event.preventDefault();
    setFailure(null);
    api<Decision & { subject: string }>("GET", withQuery("/v1/policy/test", form)).then(setAnswer, (e: Error) => (setAnswer(null), setFailure(e)));
  };
  const set = (field: keyof typeof form) => (e: { currentTarget: { value: string } }) => setForm({ ...form, [field]: e.currentTarget.value });
  return (
    <section aria-labelledby="policy-title">
      <h1 id="policy-title">Access policy</h1>
      <h2>Explain a decision</h2>
      <form className="toolbar" onSubmit={explain} aria-label="Explain a decision">
        <label htmlFor="explain-user">May user</label>
        <input id="explain-user" value={form.user} onChange={set("user")} placeholder="alice, or anonymous" required />
        <label htmlFor="explain-action">do</label>
        <select id="explain-action" value={form.action} onChange={set("action")}>
          {ACTIONS.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
        <label htmlFor="explain-repo">on</label>
        <input id="explain-repo" value={form.repo} onChange={set("repo")} placeholder="team/app" required />
        <button type="submit">Explain</button>
      </form>
      {failure && <ErrorBox error={failure} />}
      {answer && (
        <div className={`answer ${answer.allowed ? "allowed" : "denied"}`} role="status">
          <p>
            <strong>{answer.allowed ? "Allowed" : "Denied"}</strong> for {answer.subject}: {answer.reason}
          </p>
          {answer.decidedBy.length > 0 && <p>Decided by: {answer.decidedBy.map((r) => r.id).join(", ")}</p>}
        </div>
      )}
      <h2>Rules</h2>
      {error ? (
        <ErrorBox error={error} retry={reload} />
      ) : !data ? (
        <Loading />
      ) : data.rules.length === 0 ? (
        <Empty title="No rules: only admins may do anything.">
          <p>
            Add rules with <code>mcr policy apply FILE</code>.
          </p>
        </Empty>
      ) : (
        <Table columns={["Id", { label: "Priority", num: true }, "Effect", "Subjects", "Actions", "Repositories", "Description"]}>
          {data.rules.map((r) => (
            <tr key={r.id} className={r.enabled ? "" : "disabled"}>
              <td>{r.id}</td>
              <td className="num">{r.priority}</td>
              <td>{r.effect}</td>
              <td>{r.subjects.join(", ")}</td>
              <td>{r.actions.join(", ")}</td>
              <td>{r.repositories.join(", ")}</td>
              <td>{r.description}</td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
