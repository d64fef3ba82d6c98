/**
 * The dialect interface: everything that differs between SQLite and PostgreSQL lives behind it.
 *
 * The runner asks the dialect (how to begin a transaction, how to quote, what it can do);
 * operations are rendered by it. `if (dialect === ...)` belongs in this folder only.
 *
 * Rendering comes in two layers. {@link Dialect.renderOperation} is pure: an operation in,
 * statements out, or a named error. {@link Dialect.applyOperation} is what a migration's `op`
 * calls: it may first read the database through the executor (a SQLite rebuild needs the
 * table's current definition; a concurrent PostgreSQL index needs to know about an INVALID
 * leftover), then runs the statements in order and checks what must hold afterwards.
 *
 * @module
 */

import type { DialectName } from "../revision/revision.ts";
import type { Operation } from "../ops/operations.ts";
import type { ColumnType } from "../ops/types.ts";
import type { Executor } from "../ops/executor.ts";
import { sqliteDialect } from "./sqlite.ts";
import { postgresDialect } from "./postgres.ts";

/** What a dialect can do; the runner and operations ask instead of branching on names. */
export interface DialectCapabilities {
  /** DDL can be rolled back with the transaction. */
  readonly transactionalDdl: boolean;
  /** Session advisory locks exist (PostgreSQL). */
  readonly advisoryLocks: boolean;
  /** Native enum types (PostgreSQL); otherwise VARCHAR with a CHECK. */
  readonly nativeEnums: boolean;
  /** Foreign keys are switched off for a run and checked per migration (SQLite). */
  readonly foreignKeyCheckPerMigration: boolean;
  /** Most ALTERs need a table rebuild (SQLite batch mode). */
  readonly rebuildsTables: boolean;
}

/**
 * The statements of one operation, in order, and remarks about options the dialect skipped
 * (e.g. `using gin skipped on sqlite`), which go to the executor's `comment`.
 */
export interface Rendered {
  readonly statements: readonly string[];
  readonly comments: readonly string[];
}

/** One SQL dialect. */
export interface Dialect {
  readonly name: DialectName;
  readonly capabilities: DialectCapabilities;
  /** Quote an identifier only where needed, always safely. */
  quoteIdent(name: string): string;
  /** A string literal. */
  quoteLiteral(value: string): string;
  /** The statement that opens a migration's transaction. */
  readonly beginStatement: string;
  /** DDL of Alembic's version table. */
  createVersionTable(table: string): string;
  /** A portable column type as this dialect spells it (`t.uuid()` is `UUID` or `CHAR(36)`). */
  renderType(type: ColumnType): string;
  /**
   * Pure rendering of one operation. Throws `UnsupportedOperationError` where the dialect has
   * no form for it here (SQLite `alterColumn` outside a batch, a SQLite batch that needs a
   * rebuild, which needs the table's definition: see `applyOperation`).
   */
  renderOperation(op: Operation): Rendered;
  /**
   * Perform one operation through the executor: read what it needs from the database, run its
   * statements in order, send skipped options to `executor.comment`, and check the result.
   */
  applyOperation(op: Operation, executor: Executor): Promise<void>;
}

/** The dialect of a name. */
export function getDialect(name: DialectName): Dialect {
  return name === "sqlite" ? sqliteDialect : postgresDialect;
}

/**
 * Pure rendering of an operation for a dialect (see {@link Dialect.renderOperation}).
 *
 * @example
 * ```ts
 * import { getDialect, renderOperation } from "./dialect.ts";
 * const op = { kind: "renameTable", from: "flow", to: "flows" } as const;
 * renderOperation(op, getDialect("sqlite")).statements; // ["ALTER TABLE flow RENAME TO flows"]
 * ```
 */
export function renderOperation(op: Operation, dialect: Dialect): Rendered {
  return dialect.renderOperation(op);
}
