/**
 * @module The program the bench compares with: Debian's docker-registry
 * (CNCF Distribution), installed with apt when missing.
 */

const needed = [
  { bin: "docker-registry", pkg: "docker-registry" },
];

/** Installs whatever is missing; throws when it cannot. */
export function ensureTools(log: (line: string) => void): void {
  const missing = needed.filter((tool) => !Bun.which(tool.bin)).map((tool) => tool.pkg);
  if (missing.length === 0) return;
  log(`installing ${missing.join(" ")} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const update = Bun.spawnSync(["apt-get", "update", "-qq"], { env, stdout: "inherit", stderr: "inherit" });
  const install = update.exitCode === 0 ? Bun.spawnSync(["apt-get", "install", "-y", "-qq", ...missing], { env, stdout: "inherit", stderr: "inherit" }) : update;
  if (install.exitCode !== 0) throw new Error(`could not install ${missing.join(" ")}; install them (apt-get install ${missing.join(" ")}) and run again`);
}
