/**
 * The one thing operations need from the runner: somewhere to send statements.
 *
 * The runner gives each migration an executor. In a real run it executes statements on the
 * migration's connection (inside its transaction when it has one); in a dry run (`--sql`) it
 * prints them instead, and answers queries from a shadow database where it has one (SQLite:
 * an in-memory copy of the schema) or with no rows (PostgreSQL without a server).
 *
 * @module
 */

import type { DialectName } from "../revision/revision.ts";

/** A row returned by a query. */
export type Row = Record<string, unknown>;

/** Where a migration's statements go. */
export interface Executor {
  readonly dialect: DialectName;
  /** True when the migration runs inside a transaction (operations that cannot, refuse). */
  readonly inTransaction: boolean;
  /** True in a dry run: statements are printed, not executed on the real database. */
  readonly dryRun: boolean;
  /**
   * True when the runner checks the foreign keys of everything the migration touches before it
   * commits, so an operation need not check its own table again (SQLite rebuilds).
   */
  readonly checksForeignKeys?: boolean;
  /**
   * The foreign-key violations the migration has added so far, as the runner's check before
   * commit would find them (when it {@link checksForeignKeys}). A batch outside a transaction
   * asks before its savepoint is released, which is its commit.
   */
  addedForeignKeyViolations?(): Promise<readonly string[]>;
  /** Run one statement (or print it in a dry run). */
  run(statement: string, params?: readonly unknown[]): Promise<void>;
  /** Run a query and return its rows (see the module note for dry runs). */
  query<T extends Row = Row>(statement: string, params?: readonly unknown[]): Promise<T[]>;
  /** A remark for the dry-run output, e.g. an option skipped on this dialect. */
  comment(text: string): void;
}
