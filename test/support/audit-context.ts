/**
 * @module The audit context tests pass to lib/ operations they call directly.
 */
import type { AuditContext } from "../../lib/audit/audit-log.ts";

/** Events recorded by test code: actor `local:test`, no address. */
export const TEST_BY: AuditContext = { actor: "local:test", source: null };
