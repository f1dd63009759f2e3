/**
 * @module The pull commands the UI offers to copy, by tag and by digest.
 */

/** `docker pull HOST/REPO:TAG` and `docker pull HOST/REPO@DIGEST`. */
export function pullCommands(host: string, repository: string, tag: string | null, digest: string): { byTag: string | null; byDigest: string } {
  const ref = `${host}/${repository}`;
  return { byTag: tag === null ? null : `docker pull ${ref}:${tag}`, byDigest: `docker pull ${ref}@${digest}` };
}
