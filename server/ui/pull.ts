/**
 * @module The pull commands the UI offers to copy, by tag and by digest.
 */

/** The host (and port) clients pull from: the page's own. */
export function registryHost(location: { host: string }): string {
  return location.host;
}

/** `docker pull HOST/REPO:TAG` and `docker pull HOST/REPO@DIGEST`. */
export function pullCommands(host: string, repository: string, tag: string | null, digest: string): { byTag: string | null; byDigest: string } {
  const ref = `${host}/${repository}`;
  return { byTag: tag === null ? null : `docker pull ${ref}:${tag}`, byDigest: `docker pull ${ref}@${digest}` };
}
