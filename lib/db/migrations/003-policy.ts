/**
 * @module Migration 3: the access policy's rules, seeded with the default
 * rule set, and the policy version counter in `meta`. Frozen.
 */
import { sql, type Kysely } from "kysely";

const defaults = [
  ["default-users", '["role:user"]', '["pull","push","delete","overwrite","catalog"]', "human users may pull, push, delete and move tags everywhere"],
  ["default-guests", '["role:guest"]', '["pull","catalog"]', "guests may pull everywhere"],
] as const;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("policy_rules")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("priority", "integer", (c) => c.notNull())
    .addColumn("effect", "text", (c) => c.notNull())
    .addColumn("subjects", "text", (c) => c.notNull())
    .addColumn("actions", "text", (c) => c.notNull())
    .addColumn("repositories", "text", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .execute();
  for (const [id, subjects, actions, description] of defaults) {
    await sql`insert into policy_rules (id, priority, effect, subjects, actions, repositories, enabled, description)
              values (${id}, 0, 'allow', ${subjects}, ${actions}, '["**"]', 1, ${description})`.execute(db);
  }
  await sql`insert into meta (key, value) values ('policy_version', '1')`.execute(db);
}
