/**
 * @module Whose upload sessions count together: accounts by name, anonymous
 * pushers by address, IPv6 addresses by their /64 whatever their spelling.
 */
import { expect, test } from "bun:test";
import { ANONYMOUS, type UserIdentity } from "../../../lib/auth/identity.ts";
import { uploadOwner } from "../../../lib/registry/upload-sessions.ts";

const user = (name: string, userKind: "human" | "robot"): UserIdentity => ({ kind: "user", userId: 1, name, role: "user", userKind, via: "password", tokenId: null });

test("accounts by name, whatever address they come from", () => {
  expect(uploadOwner(user("alice", "human"), "192.0.2.1")).toBe("user:alice");
  expect(uploadOwner(user("ci", "robot"), "2001:db8::1")).toBe("robot:ci");
});

test("anonymous pushers by IPv4 address, or IPv6 /64 in any spelling", () => {
  expect(uploadOwner(ANONYMOUS, "192.0.2.1")).toBe("anonymous@192.0.2.1");
  expect(uploadOwner(ANONYMOUS, null)).toBe("anonymous");
  const same = ["2001:db8:0:7::1", "2001:0db8:0000:0007:ffff:ffff:ffff:ffff", "2001:db8:0:7:1:2:3:4", "2001:db8::7:0:0:0:1".replace("::7:0:0:0:1", ":0:7::1")];
  for (const address of same) expect(uploadOwner(ANONYMOUS, address)).toBe("anonymous@2001:db8:0:7::/64");
  expect(uploadOwner(ANONYMOUS, "2001:db8:0:8::1")).toBe("anonymous@2001:db8:0:8::/64");
  expect(uploadOwner(ANONYMOUS, "::1")).toBe("anonymous@0:0:0:0::/64");
  expect(uploadOwner(ANONYMOUS, "fe80::1%eth0")).toBe("anonymous@fe80:0:0:0::/64");
  expect(uploadOwner(ANONYMOUS, "64:ff9b::192.0.2.1")).toBe("anonymous@64:ff9b:0:0::/64");
});
