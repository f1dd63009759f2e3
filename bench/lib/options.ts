/**
 * @module The bench's command line and the sizes of each workload, full
 * (what the issue specifies) or --quick (small, for development).
 */
import { modes, targetIds, type Mode, type TargetId } from "./targets.ts";

export const workloadIds = ["push", "pull", "requests", "images", "lists"] as const;
export type WorkloadId = (typeof workloadIds)[number];

const MiB = 1024 * 1024;

/** How big each workload is. */
export interface Sizes {
  blobBytes: number;
  chunkBytes: number;
  requestSeconds: number;
  connections: number;
  images: number;
  imageConcurrency: number;
  layerBytes: number;
  tags: number;
  repositories: number;
  tagPage: number;
  /** Timed repetitions of each listing; the median is reported. */
  listRepeats: number;
  /** Timed repetitions of each push and pull per registry and mode; the median is reported, with the range. */
  blobRepeats: number;
}

export const fullSizes: Sizes = {
  blobBytes: 1024 * MiB,
  chunkBytes: 16 * MiB,
  requestSeconds: 10,
  connections: 32,
  images: 200,
  imageConcurrency: 8,
  layerBytes: 16 * 1024,
  tags: 5000,
  repositories: 1000,
  tagPage: 100,
  listRepeats: 5,
  blobRepeats: 3,
};

export const quickSizes: Sizes = {
  ...fullSizes,
  blobBytes: 128 * MiB,
  requestSeconds: 3,
  images: 40,
  tags: 500,
  repositories: 100,
  listRepeats: 3,
  blobRepeats: 1,
};

/** The parsed command line. */
export interface Options {
  quick: boolean;
  json: boolean;
  only: WorkloadId[];
  targets: TargetId[];
  modes: Mode[];
  /** Where data goes (a new temp dir by default); kept when given or with --keep. */
  dir: string | null;
  keep: boolean;
  /** The compiled mcr to run as "mcr (binary)" (default dist/mcr), e.g. an older build to compare with. */
  binary: string | null;
  sizes: Sizes;
}

export const usage = `usage: bun run bench [--quick] [--json] [--only ${workloadIds.join(",")}]
                     [--targets ${targetIds.join(",")}] [--modes ${modes.join(",")}] [--dir DIR] [--keep] [--binary PATH] [--blob-mib N] [--repeat N]`;

function list<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T[] {
  if (!value) throw new Error(`${flag} needs a value\n${usage}`);
  const items = value.split(",").map((s) => s.trim()).filter(Boolean);
  for (const item of items) if (!allowed.includes(item as T)) throw new Error(`${flag}: unknown "${item}" (one of ${allowed.join(", ")})`);
  return items as T[];
}

/** Parses argv (without the runtime and script). */
export function parseOptions(argv: readonly string[]): Options {
  const opts: Options = {
    quick: false,
    json: false,
    only: [...workloadIds],
    targets: targetIds.filter((id) => id !== "mcr-pg"),
    modes: [...modes],
    dir: null,
    keep: false,
    binary: null,
    sizes: fullSizes,
  };
  let blobMib: number | null = null;
  let repeat: number | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === "--quick") opts.quick = true;
    else if (flag === "--json") opts.json = true;
    else if (flag === "--keep") opts.keep = true;
    else if (flag === "--only") opts.only = list(value(), workloadIds, "--only");
    else if (flag === "--targets") opts.targets = list(value(), targetIds, "--targets");
    else if (flag === "--modes") opts.modes = list(value(), modes, "--modes");
    else if (flag === "--dir") opts.dir = value() ?? null;
    else if (flag === "--binary") opts.binary = value() ?? null;
    else if (flag === "--blob-mib") blobMib = Number(value());
    else if (flag === "--repeat") repeat = Number(value());
    else if (flag === "--help" || flag === "-h") throw new Error(usage);
    else throw new Error(`unknown option ${arg}\n${usage}`);
  }
  opts.sizes = opts.quick ? quickSizes : fullSizes;
  if (blobMib !== null) {
    if (!Number.isInteger(blobMib) || blobMib < 16) throw new Error("--blob-mib needs a whole number of MiB, 16 or more");
    opts.sizes = { ...opts.sizes, blobBytes: blobMib * MiB };
  }
  if (repeat !== null) {
    if (!Number.isInteger(repeat) || repeat < 1) throw new Error("--repeat needs a whole number, 1 or more");
    opts.sizes = { ...opts.sizes, blobRepeats: repeat };
  }
  return opts;
}
