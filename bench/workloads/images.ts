/**
 * @module Workload 4: many small images (a config, 3 × 16 KiB layers and
 * a manifest each) pushed as docker does, a few at a time: with auth, a
 * token for the push (mcr: a new token per image, from the token
 * endpoint; Distribution: Basic on every request), then HEAD each blob,
 * POST + PUT it, then PUT the manifest. A few untimed images first warm
 * each server up.
 */
import { inTurn, modeLabel, rounds, settleDisk, type Bench } from "../lib/bench.ts";
import { makeImage, pool, pushImage, repoScope, type SmallImage } from "../lib/client.ts";
import type { Endpoint } from "../lib/targets.ts";

/** Pushes one image as one client session would: its own token first. */
async function pushAsClient(ep: Endpoint, repo: string, tag: string, image: SmallImage): Promise<void> {
  const authorization = await ep.authorize(repoScope(repo), true);
  await pushImage({ ...ep, authorize: async () => authorization }, repo, tag, image);
}
import { ownCpuSeconds } from "../lib/proc.ts";

export async function imagesWorkload(bench: Bench): Promise<void> {
  const { sizes } = bench.opts;
  const section = `${sizes.images} small images, ${sizes.imageConcurrency} at a time`;
  let clientCpuMax = 0;
  for (const { mode, round } of rounds(bench)) {
    for (const target of inTurn(bench, round)) {
      const ep = target.endpoint(mode);
      const repo = `bench/images-${mode}`;
      // Made before the clock starts: unique content, so nothing is already there.
      const images = Array.from({ length: sizes.images }, (_, i) => makeImage(`${target.id}-${mode}-${i}`, 3, sizes.layerBytes));
      const warmup = Array.from({ length: sizes.imageConcurrency }, (_, i) => makeImage(`${target.id}-${mode}-warm-${i}`, 3, sizes.layerBytes));
      await pool(warmup.length, sizes.imageConcurrency, (i) => pushAsClient(ep, repo, `warm-${i}`, warmup[i]!));
      settleDisk();
      const cpu = ownCpuSeconds();
      const started = performance.now();
      await pool(images.length, sizes.imageConcurrency, (i) => pushAsClient(ep, repo, `img-${i}`, images[i]!));
      const seconds = (performance.now() - started) / 1000;
      const clientCpu = (100 * (ownCpuSeconds() - cpu)) / seconds;
      clientCpuMax = Math.max(clientCpuMax, clientCpu);
      const rate = images.length / seconds;
      bench.log(`${target.label} ${modeLabel(mode)} small images: ${rate.toFixed(1)} images/s (client CPU ${clientCpu.toFixed(0)}%)`);
      bench.results.set(section, `${modeLabel(mode)} (images/s)`, target.id, { value: rate }, { goal: { text: "≥ 4× Dist", met: (_m, ratio) => ratio >= 4 } });
      bench.results.record({ workload: "images", mode, target: target.id, imagesPerSecond: rate, seconds, clientCpuPercent: clientCpu });
    }
  }
  bench.results.note(`Small images are pushed by the bench process itself (fetch, keep-alive); its CPU peaked at ${clientCpuMax.toFixed(0)}% of one core.`);
}
