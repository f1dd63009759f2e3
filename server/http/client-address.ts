/**
 * @module The client's address: the connection's peer, or, when the peer is
 * a trusted reverse proxy, the nearest address in X-Forwarded-For that is
 * not one. Login throttling and the audit log key on it, so behind a proxy
 * one client's failures must not lock out everyone else.
 */
import { BlockList, isIP } from "node:net";

/** Addresses believed to be our own reverse proxies: `has` answers for one address. */
export interface TrustedPeers {
  has(address: string): boolean;
  readonly size: number;
}

/** `::ffff:1.2.3.4` (IPv4 on an IPv6 socket) as `1.2.3.4`. */
function plain(address: string): string {
  return address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** The set of `server.trusted_proxies`: addresses and CIDR ranges (`10.0.0.0/8`, `fd00::/8`). */
export function trustedPeers(entries: readonly string[]): TrustedPeers {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", bits] = entry.split("/");
    const family = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return {
    size: entries.length,
    has(address) {
      const a = plain(address);
      const family = isIP(a);
      return family !== 0 && list.check(a, family === 6 ? "ipv6" : "ipv4");
    },
  };
}

/** Whether the connection's peer is one of the trusted proxies, whose X-Forwarded-* headers are believed. */
export function fromTrustedProxy(peer: string | null, trusted: TrustedPeers): boolean {
  return peer !== null && trusted.size > 0 && trusted.has(plain(peer));
}

/** Where a request came from, given its peer address and the proxies trusted to say. */
export function clientAddress(req: Request, peer: string | null, trusted: TrustedPeers): string | null {
  if (peer === null) return null;
  if (!fromTrustedProxy(peer, trusted)) return plain(peer);
  const hops = (req.headers.get("x-forwarded-for") ?? "").split(",").map((h) => plain(h.trim())).filter((h) => h !== "");
  // Right to left: each trusted proxy appended the address it saw; the first untrusted one is the client.
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (isIP(hop) === 0) break;
    if (!trusted.has(hop)) return hop;
  }
  return plain(peer);
}
