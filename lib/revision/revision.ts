/**
 * The revision record: what the graph, the planner and the runner know of one migration.
 *
 * Records are plain data built by the loaders in `script.ts` from `.sql` text or a `.ts`
 * module's exports; the graph never sees a file. The executable halves (`upgrade`,
 * `downgrade`) are either SQL statement lists or functions that receive a migration context.
 *
 * @module
 */

/** The SQL dialects strata keeps a chain for. */
export type DialectName = "sqlite" | "postgresql";

/** All dialect names, in the order commands report them. */
export const DIALECTS: readonly DialectName[] = Object.freeze(["sqlite", "postgresql"]);

/** One half of a migration written in SQL: the statements of a `-- migrate:up/down` section. */
export interface SqlStep {
  /** Marks a step written in SQL. */
  readonly kind: "sql";
  /** Statements in order, each without its terminating semicolon. */
  readonly statements: readonly SqlStatement[];
  /** False when the section's marker says `transaction:false`. */
  readonly transactional: boolean;
}

/** One statement of a SQL section, with the 1-based line it starts on in its file. */
export interface SqlStatement {
  /** The statement's text, comments included, without the terminating semicolon. */
  readonly sql: string;
  /** The 1-based line of the file the statement starts on. */
  readonly line: number;
}

/** One half of a migration written in TypeScript: the exported `upgrade`/`downgrade`. */
export interface FunctionStep {
  /** Marks a step written in TypeScript. */
  readonly kind: "function";
  /** The exported function; it receives the migration context (`MigrationContext`). */
  // deno-lint-ignore no-explicit-any
  readonly run: (context: any) => unknown | Promise<unknown>;
  /** False when the module exports `transactional = false`. */
  readonly transactional: boolean;
}

/** The executable half of a migration. */
export type MigrationStep = SqlStep | FunctionStep;

/** A migration as the graph and the runner see it. */
export interface Revision {
  /** The revision ID declared inside the file (authoritative). */
  readonly revision: string;
  /** Parents: empty for a base, two or more for a merge point. */
  readonly downRevisions: readonly string[];
  /** Alembic branch labels declared by this revision, usable as `label@head` targets. */
  readonly branchLabels: readonly string[];
  /** Extra dependencies that are not parents (Alembic's `depends_on`). */
  readonly dependsOn: readonly string[];
  /** The one-line description given when the revision was created. */
  readonly message: string;
  /** Where it came from: a path for errors and output (relative to the cwd when possible). */
  readonly path: string;
  /** The file's base name, e.g. `2026_11_21_143005_5952a5498b51_add_labels.sql`. */
  readonly filename: string;
  /** `YYYY_MM_DD_HHMMSS` from the filename, when it has one. */
  readonly timestamp: string | null;
  /** The slug from the filename (or from the message when the filename has none). */
  readonly slug: string;
  /** Non-fatal problems found while loading (filename without REV, REV mismatch, ...). */
  readonly warnings: readonly string[];
  /** SHA-256 (hex) of the file's text with line endings normalised to `\n`. */
  readonly checksum: string;
  /** What `upgrade` runs: a `.sql` file's `-- migrate:up` section or a module's `upgrade`. */
  readonly upgrade: MigrationStep;
  /** Null when the file has no downgrade (an `.sql` file without `-- migrate:down`). */
  readonly downgrade: MigrationStep | null;
}
