/**
 * The small database interface the runner, the lock and the introspectors need.
 *
 * One implementation per driver (`sqlite.ts` on `node:sqlite`, `postgres.ts` on porsager).
 * A connection is one session: `BEGIN`/`COMMIT` sent through `execute` apply to it, which is
 * what lets the runner hold a migration and its version-table change in one transaction.
 *
 * @module
 */

import type { DialectName } from "../revision/revision.ts";
import type { Row } from "../ops/executor.ts";

/** One database session. */
export interface Connection {
  /** Which SQL dialect the database speaks. */
  readonly dialect: DialectName;
  /** The URL with any password redacted, for output. */
  readonly displayUrl: string;
  /** Run one statement that returns no rows of interest. Parameters are `$1`, `$2`, ... */
  execute(sql: string, params?: readonly unknown[]): Promise<void>;
  /** Run one query and return its rows. Parameters are `$1`, `$2`, ... */
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /**
   * Run statements without parameters in order, as one round trip where the driver can
   * (PostgreSQL pipelines them). Only for statements inside one explicit transaction (the
   * batch may begin or end it): the server does not stop at the first failure, the failed
   * transaction does. Rejects with the {@link DatabaseError} of the first statement that
   * failed, naming that statement, with its position in `batchIndex`. `onSent` is called once
   * every statement has been handed to the session, in order, before any is answered: what is
   * sent after that runs after them.
   */
  executeBatch(statements: readonly string[], onSent?: () => void): Promise<void>;
  /** Run a script of several statements without parameters (used for schema copies). */
  executeScript(sql: string): Promise<void>;
  /**
   * From now on the session must not be replaced (it holds a lock, or runs migrations): if it
   * closes, every later statement fails instead of reconnecting. Before this, a session the
   * server ends while strata only waits (for a lock) is reopened on the next statement.
   */
  pin?(): void;
  /**
   * SQLite: this connection created the database file (it did not exist when it was opened),
   * so nothing else can have been using the database.
   */
  readonly createdFile?: boolean;
  /** End the session; the connection cannot be used afterwards. */
  close(): Promise<void>;
}

/** An error raised by the database, with the statement that caused it. */
export class DatabaseError extends Error {
  /** The statement that failed. */
  readonly statement: string;
  /** The database's own error code (SQLSTATE on PostgreSQL, extended code name on SQLite). */
  readonly code: string | undefined;
  /** From `executeBatch`: the position of the failed statement in the batch. */
  batchIndex: number | null = null;
  /**
   * Wraps a driver's error.
   *
   * @param message The message: the database's own, or what strata was doing and that.
   * @param statement The statement that failed (empty when connecting failed).
   * @param code The database's error code, when it gives one.
   * @param options The driver's error as `cause`.
   */
  constructor(message: string, statement: string, code?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DatabaseError";
    this.statement = statement;
    this.code = code;
  }
}
