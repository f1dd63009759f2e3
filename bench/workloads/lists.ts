/**
 * @module Workload 5: listings. A repository with many tags, read whole
 * and page by page (following Link), and a catalog of many repositories,
 * read to its end; the median of a few timed reads, in milliseconds.
 */
import { inTurn, median, modeLabel, rounds, type Bench } from "../lib/bench.ts";
import { CATALOG_SCOPE, listAll, makeImage, pool, pushImage, putManifest, repoScope } from "../lib/client.ts";
import type { Endpoint } from "../lib/targets.ts";

const TAG_REPO = "bench/tags";
const catalogRepo = (i: number) => `bench/catalog/r${String(i).padStart(5, "0")}`;

async function timeMs(repeats: number, fn: () => Promise<{ names: number; pages: number }>): Promise<{ ms: number; names: number; pages: number }> {
  const runs: number[] = [];
  let last = { names: 0, pages: 0 };
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    last = await fn();
    runs.push(performance.now() - started);
  }
  return { ms: median(runs), ...last };
}

export async function listsWorkload(bench: Bench): Promise<void> {
  const { sizes } = bench.opts;
  const image = makeImage("lists", 0, 0);
  for (const target of bench.targets) {
    const ep = target.endpoint("anon");
    const started = performance.now();
    await pushImage(ep, TAG_REPO, "t00000", image);
    await pool(sizes.tags - 1, 8, (i) => putManifest(ep, TAG_REPO, `t${String(i + 1).padStart(5, "0")}`, image.manifest));
    await pool(sizes.repositories, 8, (i) => pushImage(ep, catalogRepo(i), "latest", image));
    bench.log(`${target.label}: ${sizes.tags} tags and ${sizes.repositories} repositories made in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const section = `listings (${sizes.tags.toLocaleString("en-US")} tags; ${sizes.repositories.toLocaleString("en-US")} repositories)`;
  const lower = (factor: number) => ({ text: `≤ 1/${factor} of Dist`, met: (_m: unknown, ratio: number) => ratio <= 1 / factor });
  for (const { mode, round } of rounds(bench)) {
    for (const target of inTurn(bench, round)) {
      const ep: Endpoint = target.endpoint(mode);
      const read = (scope: string, path: string, key: "tags" | "repositories") => () => listAll(ep, scope, path, key);
      const tagScope = repoScope(TAG_REPO).replace(",push", "");
      const full = await timeMs(sizes.listRepeats, read(tagScope, `/v2/${TAG_REPO}/tags/list`, "tags"));
      const paged = await timeMs(sizes.listRepeats, read(tagScope, `/v2/${TAG_REPO}/tags/list?n=${sizes.tagPage}`, "tags"));
      const catalog = await timeMs(sizes.listRepeats, read(CATALOG_SCOPE, `/v2/_catalog?n=${sizes.repositories}`, "repositories"));
      for (const [what, r] of [
        ["tags list, whole", full],
        [`tags list, pages of ${sizes.tagPage}`, paged],
        ["catalog, to its end", catalog],
      ] as const) {
        bench.log(`${target.label} ${modeLabel(mode)} ${what}: ${r.ms.toFixed(1)} ms (${r.names} names, ${r.pages} pages)`);
        bench.results.set(section, `${what}, ${modeLabel(mode)} (ms)`, target.id, { value: r.ms, text: `${r.ms.toFixed(1)} (${r.pages} p.)` }, {
          goal: what.startsWith("catalog") ? lower(10) : undefined,
        });
        bench.results.record({ workload: "lists", what, mode, target: target.id, ms: r.ms, names: r.names, pages: r.pages });
      }
    }
  }
  bench.results.note(
    `Listings: the catalog is asked for ?n=${sizes.repositories} and read to its end following Link (it also holds the bench's other repositories); "p." is how many pages each server needed.`,
  );
}
