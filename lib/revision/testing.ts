/**
 * Literal revision records for tests of the graph, the planner, scaffolding and notes, which
 * build their revision maps by hand (as Alembic's `test_revision.py` does) rather than from
 * files. Not exported from `mod.ts`.
 *
 * @module
 */

import type { Revision } from "./revision.ts";

/** What a literal revision may carry besides its ID and parents. */
export interface LiteralRevisionExtra {
  /** `dependsOn` IDs. */
  readonly deps?: readonly string[];
  /** Branch labels. */
  readonly labels?: readonly string[];
  /** Filename timestamp; when given, the filename is `<timestamp>_<revision>.sql`. */
  readonly timestamp?: string;
}

/**
 * A revision record with empty SQL steps: `literalRevision("b", ["a"], { deps: ["x"] })`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { literalRevision } from "./testing.ts";
 * ok(literalRevision("b", ["a"]).filename === "b.sql");
 * ```
 */
export function literalRevision(
  revision: string,
  down: readonly string[] = [],
  extra: LiteralRevisionExtra = {},
): Revision {
  const filename = `${extra.timestamp === undefined ? "" : `${extra.timestamp}_`}${revision}.sql`;
  return {
    revision,
    downRevisions: [...down],
    branchLabels: [...extra.labels ?? []],
    dependsOn: [...extra.deps ?? []],
    message: "",
    path: `m/${filename}`,
    filename,
    timestamp: extra.timestamp ?? null,
    slug: "",
    warnings: [],
    checksum: "",
    upgrade: { kind: "sql", statements: [], transactional: true },
    downgrade: { kind: "sql", statements: [], transactional: true },
  };
}
