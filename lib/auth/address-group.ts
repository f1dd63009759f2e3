/**
 * @module Which addresses login throttling treats as one client. An IPv4
 * address is one client; an IPv6 host holds a whole /64 (SLAAC, privacy
 * addresses), so a /64 is one client, and a /48 (what an ISP or a hosting
 * account hands out) one network. Counting per address alone would let an
 * IPv6 attacker take a fresh "client" for every guess.
 */
import { isIP } from "node:net";

/** Where a login came from, as the throttle counts it. */
export interface AddressGroup {
  /** The client: an IPv4 address, `a:b:c:d::/64`, or `local` (no address: a command on the host). */
  client: string;
  /** The network spraying is counted over: the IPv4 address, or `a:b:c::/48`. */
  network: string;
}

/** The client and network of `source` (a peer address as the server saw it). */
export function addressGroup(source: string | null): AddressGroup {
  if (source === null || source === "") return { client: "local", network: "local" };
  const address = source.replace(/%.*$/, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped && isIP(mapped[1]!) === 4) return { client: mapped[1]!, network: mapped[1]! };
  const kind = isIP(address);
  if (kind === 4) return { client: address, network: address };
  if (kind === 6) {
    const words = expandIpv6(address);
    return { client: `${words.slice(0, 4).join(":")}::/64`, network: `${words.slice(0, 3).join(":")}::/48` };
  }
  // Not an address (a test double, a Unix socket): counted as itself, kept short.
  const name = address.slice(0, 64);
  return { client: name, network: name };
}

/** The eight 16-bit words of a valid IPv6 address, as lowercase hex without leading zeros. */
function expandIpv6(address: string): string[] {
  let text = address.toLowerCase();
  // A trailing dotted quad (`::ffff:1.2.3.4`, `64:ff9b::1.2.3.4`) is two words.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right].map((w) => parseInt(w, 16).toString(16));
}
