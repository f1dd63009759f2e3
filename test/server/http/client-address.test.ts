/**
 * @module The client address behind trusted reverse proxies: X-Forwarded-For
 * is believed only from a trusted peer, read right to left.
 */
import { describe, expect, test } from "bun:test";
import { clientAddress } from "../../../server/http/client-address.ts";

const req = (xff?: string) => new Request("http://r.test/", { headers: xff === undefined ? {} : { "x-forwarded-for": xff } });
const proxies = new Set(["127.0.0.1", "10.0.0.2"]);

describe("clientAddress", () => {
  test("without trusted proxies, or from an untrusted peer, the peer is the client whatever the header says", () => {
    expect(clientAddress(req("1.2.3.4"), "192.0.2.9", new Set())).toBe("192.0.2.9");
    expect(clientAddress(req("1.2.3.4"), "192.0.2.9", proxies)).toBe("192.0.2.9");
    expect(clientAddress(req(), null, proxies)).toBeNull();
  });

  test("from a trusted proxy, the nearest untrusted hop; IPv4-mapped addresses are plain", () => {
    expect(clientAddress(req("198.51.100.7"), "127.0.0.1", proxies)).toBe("198.51.100.7");
    expect(clientAddress(req("6.6.6.6, 198.51.100.7, 10.0.0.2"), "::ffff:127.0.0.1", proxies)).toBe("198.51.100.7");
    expect(clientAddress(req(), "127.0.0.1", proxies)).toBe("127.0.0.1");
    expect(clientAddress(req("not-an-ip"), "127.0.0.1", proxies)).toBe("127.0.0.1");
    expect(clientAddress(req("10.0.0.2"), "127.0.0.1", proxies)).toBe("127.0.0.1");
  });
});
