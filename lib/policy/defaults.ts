/**
 * @module The rule set a new registry starts with. They are ordinary
 * rules: `mcr policy show` lists them, and applying a set without them
 * removes them.
 */
import type { Rule } from "./rule.ts";

/** Human users pull, push, delete and move tags; guests pull; robots and anonymous get nothing. */
export const defaultRules: readonly Rule[] = [
  {
    id: "default-users",
    priority: 0,
    effect: "allow",
    subjects: ["role:user"],
    actions: ["pull", "push", "delete", "overwrite", "catalog"],
    repositories: ["**"],
    enabled: true,
    description: "human users may pull, push, delete and move tags everywhere",
  },
  {
    id: "default-guests",
    priority: 0,
    effect: "allow",
    subjects: ["role:guest"],
    actions: ["pull", "catalog"],
    repositories: ["**"],
    enabled: true,
    description: "guests may pull everywhere",
  },
];
