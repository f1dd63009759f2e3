/**
 * @module `mcr repo list|show|delete`: what is stored, how much space each
 * repository takes (its size, and the part no other repository shares),
 * one repository's tags, and deleting a repository after confirmation.
 */
import type { Command } from "commander";
import { createInterface } from "node:readline/promises";
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from "../../lib/oci/media-types.ts";
import {
  deleteRepository,
  getRepositoryDetail,
  listAllRepositories,
  registryTotals,
  type RepositorySummary,
} from "../../lib/registry/repositories.ts";
import type { TagDetail } from "../../lib/registry/tag-details.ts";
import { localActor } from "../local.ts";
import { bytes, printJson, printTable, safe, UsageError, when } from "../output.ts";
import type { AdminClient } from "../remote/admin-client.ts";
import { onTarget, targetOptions, type TargetOptions } from "../target.ts";

const SORTS = {
  name: (a: RepositorySummary, b: RepositorySummary) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  size: (a: RepositorySummary, b: RepositorySummary) => b.size - a.size,
  unique: (a: RepositorySummary, b: RepositorySummary) => b.uniqueSize - a.uniqueSize,
  pushed: (a: RepositorySummary, b: RepositorySummary) => (b.lastPushedAt ?? 0) - (a.lastPushedAt ?? 0),
} as const;

const KINDS: Record<string, string> = {
  [OCI_MANIFEST]: "image",
  [OCI_INDEX]: "index",
  [DOCKER_MANIFEST]: "docker image",
  [DOCKER_MANIFEST_LIST]: "docker list",
};

export function registerRepo(program: Command): void {
  const repo = program.command("repo").description("list, inspect and delete repositories");

  targetOptions(
    repo
      .command("list")
      .description("repositories with tag and manifest counts, sizes and last push")
      .option("--sort <key>", "name, size, unique or pushed (largest or newest first)", "name")
      .option("--json", "print JSON"),
  ).action(async (opts: TargetOptions & { sort: string; json?: boolean }) => {
      const sort = SORTS[opts.sort as keyof typeof SORTS];
      if (!sort) throw new UsageError(`--sort must be one of ${Object.keys(SORTS).join(", ")}`);
      const { repositories, totals } = await onTarget<RepositoryListing>(opts, {
        local: listAllRepositories,
        remote: listRemote,
      });
      repositories.sort(sort);
      if (opts.json) return printJson({ repositories, totals });
      printTable(
        ["NAME", "TAGS", "MANIFESTS", "SIZE", "UNIQUE", "LAST PUSH"],
        repositories.map((r) => [r.mirrorOf === null ? r.name : `${r.name} (mirror of ${r.mirrorOf})`, String(r.tagCount), String(r.manifestCount), bytes(r.size), bytes(r.uniqueSize), when(r.lastPushedAt, "never")]),
      );
      const logical = repositories.reduce((sum, r) => sum + r.size, 0);
      const parts = [`${totals.repositories} repositor${totals.repositories === 1 ? "y" : "ies"}`, `${bytes(totals.storedSize)} stored (${bytes(logical)} without sharing)`];
      if (totals.unreferencedSize > 0) parts.push(`${bytes(totals.unreferencedSize)} in no repository (mcr gc reclaims it)`);
      console.log(`\n${parts.join("; ")}`);
    });

  targetOptions(repo.command("show <name>").description("a repository's tags: digest, type, platforms, size, when pushed").option("--json", "print JSON")).action(
    async (name: string, opts: TargetOptions & { json?: boolean }) => {
      const detail = await onTarget<RepositoryDetail>(opts, {
        local: (reg) => getRepositoryDetail(reg, name),
        remote: (api) => api.get<RepositoryDetail>(`/v1/repositories/${repoPath(name)}`),
      });
      if (opts.json) return printJson(detail);
      console.log(safe(detail.mirrorOf === null ? detail.name : `${detail.name} (read-only mirror of upstream ${detail.mirrorOf})`));
      console.log(
        `  size ${bytes(detail.size)} (${bytes(detail.uniqueSize)} not shared with other repositories) · ` +
          `${count(detail.tagCount, "tag")} · ${count(detail.manifestCount, "manifest")} · ${count(detail.blobCount, "blob")}`,
      );
      console.log(`  created ${when(detail.createdAt)} · last push ${when(detail.lastPushedAt, "never")}\n`);
      printTable(
        ["TAG", "DIGEST", "TYPE", "PLATFORMS", "SIZE", "PUSHED"],
        detail.tags.map((t) => [t.name, t.digest.slice(0, 19), kindOf(t), t.platforms.join(",") || "-", bytes(t.size), when(t.pushedAt)]),
      );
    },
  );

  targetOptions(
    repo
      .command("delete <name>")
      .description("delete a repository: its tags, manifests and blob memberships (blobs stay until mcr gc)")
      .option("--yes", "do not ask for confirmation"),
  ).action(async (name: string, opts: TargetOptions & { yes?: boolean }) => {
      const confirm = async (d: RepositoryDetail) => {
        if (opts.yes) return;
        const question = `delete ${safe(d.name)}: ${count(d.tagCount, "tag")}, ${count(d.manifestCount, "manifest")}, ${bytes(d.size)} (${bytes(d.uniqueSize)} freed after mcr gc)? [y/N] `;
        if (!/^y(es)?$/i.test(await ask(question))) throw new Error(`${name} not deleted`);
      };
      const deleted = await onTarget<DeletedRepository>(opts, {
        local: async (reg) => {
          await confirm(await getRepositoryDetail(reg, name));
          return deleteRepository(reg, name, { actor: localActor(), source: null });
        },
        remote: async (api) => {
          await confirm(await api.get<RepositoryDetail>(`/v1/repositories/${repoPath(name)}`));
          return api.call<DeletedRepository>("DELETE", `/v1/repositories/${repoPath(name)}`);
        },
      });
      const removed = [count(deleted.tags, "tag"), count(deleted.manifests, "manifest"), count(deleted.blobs, "blob link"), count(deleted.uploads, "upload")];
      console.log(`deleted ${safe(deleted.name)}: ${removed.join(", ")}; the blobs stay until mcr gc`);
    });
}

type RepositoryListing = { repositories: RepositorySummary[]; totals: Awaited<ReturnType<typeof registryTotals>> };
type RepositoryDetail = Awaited<ReturnType<typeof getRepositoryDetail>>;
type DeletedRepository = Awaited<ReturnType<typeof deleteRepository>>;

/** Every page of /v1/repositories. */
async function listRemote(api: AdminClient): Promise<RepositoryListing> {
  const all: RepositorySummary[] = [];
  let cursor: string | null = null;
  let totals: RepositoryListing["totals"] | undefined;
  do {
    const query: string = cursor === null ? "?limit=1000" : `?limit=1000&cursor=${encodeURIComponent(cursor)}`;
    const page: { repositories: RepositorySummary[]; nextCursor: string | null; totals: RepositoryListing["totals"] } = await api.get(`/v1/repositories${query}`);
    all.push(...page.repositories);
    totals = page.totals;
    cursor = page.nextCursor;
  } while (cursor !== null);
  return { repositories: all, totals: totals! };
}

/** A repository name as a /v1 path: each segment escaped, the slashes kept. */
function repoPath(name: string): string {
  return name.split("/").map(encodeURIComponent).join("/");
}

/** `1 tag`, `2 tags`. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** `image`, `index`, … or the artifact type. */
function kindOf(tag: TagDetail): string {
  return tag.artifactType ?? KINDS[tag.mediaType] ?? tag.mediaType;
}

/** One line from standard input after a prompt on stderr; "" when input ends first. */
async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  const closed = new Promise<string>((resolve) => rl.once("close", () => resolve("")));
  process.stderr.write(question);
  try {
    return (await Promise.race([rl.question(""), closed])).trim();
  } finally {
    rl.close();
  }
}
