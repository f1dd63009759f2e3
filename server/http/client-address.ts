/**
 * @module The client's address: the connection's peer, or, when the peer is
 * a trusted reverse proxy, the nearest address in X-Forwarded-For that is
 * not one. Login throttling and the audit log key on it, so behind a proxy
 * one client's failures must not lock out everyone else.
 */
import { isIP } from "node:net";

/** `::ffff:1.2.3.4` (IPv4 on an IPv6 socket) as `1.2.3.4`. */
function plain(address: string): string {
  return address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Where a request came from, given its peer address and the proxies trusted to say. */
export function clientAddress(req: Request, peer: string | null, trusted: ReadonlySet<string>): string | null {
  if (peer === null || trusted.size === 0 || !trusted.has(plain(peer))) return peer === null ? null : plain(peer);
  const hops = (req.headers.get("x-forwarded-for") ?? "").split(",").map((h) => plain(h.trim())).filter((h) => h !== "");
  // Right to left: each trusted proxy appended the address it saw; the first untrusted one is the client.
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (isIP(hop) === 0) break;
    if (!trusted.has(hop)) return hop;
  }
  return plain(peer);
}
