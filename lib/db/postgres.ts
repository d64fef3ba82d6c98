/**
 * PostgreSQL connections on `postgres` (porsager), one session each.
 *
 * Each connection is a pool of exactly one, so `BEGIN`/`COMMIT` sent as statements apply to
 * the session the migration runs on, and session state (advisory locks, `SET`) stays put.
 *
 * The driver is imported on first use: a SQLite run, and every command that needs no
 * database, never loads it (nor the socket and TLS modules it pulls in).
 *
 * Statements without parameters go over the simple query protocol (one `Query` message, as
 * `psql` sends them) rather than Parse/Bind/Describe/Execute; statements with parameters use
 * the extended protocol.
 *
 * @module
 */

import type postgres from "postgres";
import type { Row } from "../ops/executor.ts";
import { type Connection, DatabaseError } from "./connection.ts";
import { redactUrl } from "./url.ts";

/** Options of {@link openPostgres}. */
export interface PostgresOptions {
  /** Seconds to wait for a TCP connection. */
  readonly connectTimeoutSeconds?: number;
  /** `application_name` shown in `pg_stat_activity`. */
  readonly applicationName?: string;
  /**
   * Read the server's array types when connecting (default true), so array columns come back
   * as arrays. A session that only takes locks does without the extra query.
   */
  readonly fetchTypes?: boolean;
}

let driver: Promise<typeof postgres> | null = null;

function loadDriver(): Promise<typeof postgres> {
  return driver ??= import("postgres").then((m) => m.default);
}

/** Open a PostgreSQL session (lazily: the first statement connects). */
export function openPostgres(url: string, options: PostgresOptions = {}): Connection {
  const sql = loadDriver().then((create) =>
    create(url, {
      max: 1,
      idle_timeout: 0,
      connect_timeout: options.connectTimeoutSeconds ?? 10,
      onnotice: () => {},
      connection: { application_name: options.applicationName ?? "strata" },
      // Migrations run each statement once; preparing them would only cost a round trip.
      prepare: false,
      fetch_types: options.fetchTypes ?? true,
    })
  );
  // A failed import surfaces on the first statement; never as an unhandled rejection.
  sql.catch(() => {});
  return new PostgresConnection(sql, redactUrl(url));
}

type Params = postgres.ParameterOrJSON<never>[];

class PostgresConnection implements Connection {
  readonly dialect = "postgresql" as const;
  readonly #sql: Promise<postgres.Sql>;
  readonly displayUrl: string;
  constructor(sql: Promise<postgres.Sql>, displayUrl: string) {
    this.#sql = sql;
    this.displayUrl = displayUrl;
  }

  async execute(text: string, params: readonly unknown[] = []): Promise<void> {
    try {
      const sql = await this.#sql;
      if (params.length === 0) await sql.unsafe(text).simple();
      else await sql.unsafe(text, params as Params);
    } catch (error) {
      throw wrapError(error, text, this.displayUrl);
    }
  }

  async query<T extends Row = Row>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    try {
      const sql = await this.#sql;
      const rows = await sql.unsafe(text, params as Params);
      return [...rows] as unknown as T[];
    } catch (error) {
      throw wrapError(error, text, this.displayUrl);
    }
  }

  async executeBatch(statements: readonly string[]): Promise<void> {
    if (statements.length === 0) return;
    let sql: postgres.Sql;
    try {
      sql = await this.#sql;
    } catch (error) {
      throw wrapError(error, statements[0], this.displayUrl);
    }
    // Issued without waiting, the queries are pipelined on the one connection: written
    // together, answered in order. Each is its own protocol message, so each settles on its
    // own and the first failure names its statement; the ones after it fail (or, for COMMIT,
    // roll back) in the aborted transaction.
    const settled = await Promise.allSettled(statements.map((s) => sql.unsafe(s).simple()));
    const failed = settled.findIndex((r) => r.status === "rejected");
    if (failed >= 0) {
      const error = wrapError(
        (settled[failed] as PromiseRejectedResult).reason,
        statements[failed],
        this.displayUrl,
      );
      error.batchIndex = failed;
      throw error;
    }
  }

  async executeScript(text: string): Promise<void> {
    try {
      const sql = await this.#sql;
      await sql.unsafe(text).simple();
    } catch (error) {
      throw wrapError(error, text, this.displayUrl);
    }
  }

  async close(): Promise<void> {
    let sql: postgres.Sql;
    try {
      sql = await this.#sql;
    } catch {
      return; // the driver never loaded: nothing to close
    }
    await sql.end({ timeout: 5 });
  }
}

function wrapError(error: unknown, statement: string, displayUrl: string): DatabaseError {
  if (error instanceof DatabaseError) return error;
  const e = error as {
    message?: string;
    code?: string;
    detail?: string;
    hint?: string;
    position?: string;
    errno?: string;
  };
  let message = redactUrl(String(e.message ?? error));
  if (e.code === "ECONNREFUSED" || e.code === "ENOTFOUND" || e.code === "CONNECT_TIMEOUT") {
    // The statement never reached a server: do not show it.
    return new DatabaseError(`Cannot connect to ${displayUrl}: ${message}`, "", e.code, {
      cause: error,
    });
  }
  if (e.detail) message += ` (${e.detail})`;
  if (e.hint) message += `; hint: ${e.hint}`;
  return new DatabaseError(message, statement, e.code, { cause: error });
}
