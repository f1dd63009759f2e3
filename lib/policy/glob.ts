/**
 * @module Repository globs: `*` matches within one path segment, `**` any
 * number of segments (`team/**` matches `team/a` and `team/a/b`).
 */

const GLOB_CHARS = /^[a-z0-9._\-/*]+$/;

/** Why `glob` is not a valid repository glob, or null when it is. */
export function checkGlob(glob: string): string | null {
  if (glob.length === 0 || glob.length > 255) return "must have 1-255 characters";
  if (!GLOB_CHARS.test(glob)) return "only lowercase letters, digits, '.', '_', '-', '/' and '*' are allowed";
  if (/\*{3,}/.test(glob)) return "use * (one segment) or ** (any depth), not ***";
  if (/[^/]\*\*|\*\*(?!\/|$)/.test(glob)) return "** must stand for whole segments (a/**/b, team/**)";
  if (glob.startsWith("/") || glob.endsWith("/") || glob.includes("//")) return "no leading, trailing or double '/'";
  return null;
}

/** A regular expression that matches exactly the repository names `glob` covers. */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      // "a/**/b" also matches "a/b"; a trailing "**" matches one or more segments.
      if (glob[i + 2] === "/") {
        source += "(?:.*/)?";
        i += 2;
      } else {
        source += ".*";
        i += 1;
      }
    } else if (c === "*") {
      source += "[^/]*";
    } else {
      source += c.replace(/[.\-]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`);
}
