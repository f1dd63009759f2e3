/**
 * @module The batched record of pulls: a GET or HEAD writes nothing at
 * once; a flush writes the latest time per manifest in one go, raising
 * (never lowering) what is stored, and skips manifests deleted meanwhile.
 */
import { describe, expect, test } from "bun:test";
import { deleteManifest, getManifest } from "../../../lib/registry/manifests.ts";
import { TEST_BY } from "../../support/audit-context.ts";
import { clockedRegistry, HOUR, pushImage } from "../../support/gc-fixtures.ts";

describe("PullRecorder", () => {
  test("pulls wait in memory, then the latest per manifest is written; deleted manifests are skipped", async () => {
    const { reg, advance } = await clockedRegistry();
    const a = await pushImage(reg, "app", "a", ["1"]);
    const b = await pushImage(reg, "app", "b", ["2"]);
    const c = await pushImage(reg, "app", "c", ["3"]);
    const first = advance(HOUR);
    await getManifest(reg, "app", "a");
    await getManifest(reg, "app", b.digest);
    await getManifest(reg, "app", "c");
    const later = advance(HOUR);
    await getManifest(reg, "app", a.digest);
    await deleteManifest(reg, "app", c.digest, TEST_BY);
    expect(await reg.db.selectFrom("manifest_pulls").selectAll().execute()).toEqual([]);
    await reg.pulls.flush();
    const rows = await reg.db
      .selectFrom("manifest_pulls as p")
      .innerJoin("manifests as m", "m.id", "p.manifest_id")
      .select(["m.digest", "p.pulled_at"])
      .orderBy("p.pulled_at")
      .execute();
    expect(rows).toEqual([
      { digest: b.digest, pulled_at: first },
      { digest: a.digest, pulled_at: later },
    ]);
    // An older time arriving late (another process's batch) never lowers the record.
    reg.pulls.record((await reg.db.selectFrom("manifests").select("id").where("digest", "=", a.digest).executeTakeFirstOrThrow()).id, first);
    await reg.pulls.flush();
    expect((await reg.db.selectFrom("manifest_pulls").select("pulled_at").orderBy("pulled_at", "desc").executeTakeFirstOrThrow()).pulled_at).toBe(later);
    expect(c.digest).toStartWith("sha256:");
    expect(reg.pulls.failures).toBe(0);
    await reg.close();
  });
});
