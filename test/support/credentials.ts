/**
 * @module The admin account every test registry starts with, and helpers
 * to present credentials.
 */

/** Created by `ensureAdmin` in test registries and by MCR_ADMIN_PASSWORD in test server processes. */
export const TEST_ADMIN = { username: "admin", password: "test-admin-password" } as const;

/** An `Authorization: Basic` value. */
export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

/** The admin's Basic header. */
export const ADMIN_AUTH = basicAuth(TEST_ADMIN.username, TEST_ADMIN.password);
