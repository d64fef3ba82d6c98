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
  let connection: PostgresConnection | null = null;
  const sql = loadDriver().then((create) =>
    create(url, {
      max: 1,
      idle_timeout: 0,
      // The driver's default ends a session after 30 to 60 minutes and opens another: that
      // would drop the advisory lock, and a migration's transaction, in a long run.
      max_lifetime: 0,
      connect_timeout: options.connectTimeoutSeconds ?? 10,
      onnotice: () => {},
      onclose: () => connection?.closed(),
      connection: { application_name: options.applicationName ?? "strata" },
      // Migrations run each statement once; preparing them would only cost a round trip.
      prepare: false,
      fetch_types: options.fetchTypes ?? true,
    })
  );
  // A failed import surfaces on the first statement; never as an unhandled rejection.
  sql.catch(() => {});
  connection = new PostgresConnection(sql, redactUrl(url));
  return connection;
}

type Params = postgres.ParameterOrJSON<never>[];

/** The driver's query, as far as a session's bookkeeping sees it. */
interface DriverQuery {
  readonly state?: unknown;
  cancel(): void;
}

/**
 * A session, and only one once pinned (see {@link Connection.pin}): never silently replaced.
 * The driver would reconnect when the server ends a session and run the queries still queued
 * on the new one, outside the migration's transaction (its later statements in autocommit, its
 * version change with them); a pinned session that closed instead fails every later statement,
 * and the queries queued when it closed are withdrawn before the driver can send them anywhere.
 */
class PostgresConnection implements Connection {
  readonly dialect = "postgresql" as const;
  readonly #sql: Promise<postgres.Sql>;
  readonly displayUrl: string;
  /** Queries sent or queued and not settled yet, each with a way to fail it. */
  readonly #pending = new Map<DriverQuery, (error: unknown) => void>();
  /** See {@link Connection.pin}. */
  #pinned = false;
  /** The session closed after it had been open. */
  #lost = false;
  /** A statement has succeeded: errors from now on are not connection errors. */
  #opened = false;
  constructor(sql: Promise<postgres.Sql>, displayUrl: string) {
    this.#sql = sql;
    this.displayUrl = displayUrl;
  }

  pin(): void {
    this.#pinned = true;
  }

  /** Called by the driver when the session's socket closes, before it reconnects. */
  closed(): void {
    if (this.#pinned) this.#lost = true;
    for (const [query, fail] of this.#pending) {
      if (!query.state) {
        // Queued: the driver would send it on the next session, which a pinned one refuses.
        if (this.#pinned) query.cancel();
        continue;
      }
      // Sent: its answer will never come, and the driver does not always fail it (a reset
      // seen as a socket error before the close leaves it waiting for ever).
      fail(this.#lostError());
    }
  }

  #lostError(text = ""): DatabaseError {
    return new DatabaseError(
      `the session with ${this.displayUrl} was closed by the server or the network during ` +
        "the run; strata does not reconnect in the middle of a run, so nothing more ran",
      text,
      "CONNECTION_LOST",
    );
  }

  #send(
    sql: postgres.Sql,
    text: string,
    params: readonly unknown[],
    simple: boolean,
  ): Promise<readonly Row[]> {
    if (this.#lost) throw this.#lostError(text);
    const query = simple ? sql.unsafe(text).simple() : sql.unsafe(text, params as Params);
    // `state` is the driver's: set once the query is handed to the session.
    const handle = query as unknown as DriverQuery;
    return new Promise<readonly Row[]>((resolve, reject) => {
      this.#pending.set(handle, reject);
      query.then((rows) => {
        this.#opened = true;
        this.#pending.delete(handle);
        resolve(rows as unknown as readonly Row[]);
      }, (error) => {
        this.#pending.delete(handle);
        reject(error);
      });
    });
  }

  async execute(text: string, params: readonly unknown[] = []): Promise<void> {
    try {
      const sql = await this.#sql;
      await this.#send(sql, text, params, params.length === 0);
    } catch (error) {
      throw wrapError(error, text, this.displayUrl, this.#opened);
    }
  }

  async query<T extends Row = Row>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    try {
      const sql = await this.#sql;
      const rows = await this.#send(sql, text, params, false);
      return [...rows] as unknown as T[];
    } catch (error) {
      throw wrapError(error, text, this.displayUrl, this.#opened);
    }
  }

  async executeBatch(statements: readonly string[], onSent?: () => void): Promise<void> {
    if (statements.length === 0) return onSent?.();
    let sql: postgres.Sql;
    try {
      sql = await this.#sql;
    } catch (error) {
      throw wrapError(error, statements[0], this.displayUrl, this.#opened);
    }
    // Issued without waiting, the queries are pipelined on the one connection: written
    // together, answered in order. Each is its own protocol message, so each settles on its
    // own and the first failure names its statement; the ones after it fail (or, for COMMIT,
    // roll back) in the aborted transaction.
    const sent = statements.map((s) => {
      try {
        return this.#send(sql, s, [], true);
      } catch (error) {
        return Promise.reject(error);
      }
    });
    onSent?.();
    const settled = await Promise.allSettled(sent);
    const failed = settled.findIndex((r) => r.status === "rejected");
    if (failed >= 0) {
      const error = wrapError(
        (settled[failed] as PromiseRejectedResult).reason,
        statements[failed],
        this.displayUrl,
        this.#opened,
      );
      error.batchIndex = failed;
      throw error;
    }
  }

  async executeScript(text: string): Promise<void> {
    try {
      const sql = await this.#sql;
      await this.#send(sql, text, [], true);
    } catch (error) {
      throw wrapError(error, text, this.displayUrl, this.#opened);
    }
  }

  async close(): Promise<void> {
    let sql: postgres.Sql;
    try {
      sql = await this.#sql;
    } catch {
      return; // the driver never loaded: nothing to close
    }
    // A session that closed has nothing to finish (and the driver would wait out the timeout).
    await sql.end({ timeout: this.#lost ? 0 : 5 });
  }
}

/**
 * A driver error as a {@link DatabaseError}. An error that comes from connecting (the server
 * unreachable, authentication, a missing database, a URL the driver cannot read, TLS) names the
 * server rather than the statement, which never ran: `opened` is false until a statement has
 * succeeded on the session.
 */
function wrapError(
  error: unknown,
  statement: string,
  displayUrl: string,
  opened: boolean,
): DatabaseError {
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
  if (e.detail) message += ` (${redactUrl(e.detail)})`;
  if (e.hint) message += `; hint: ${redactUrl(e.hint)}`;
  if (isConnectError(error, opened)) {
    // The statement never reached a server: do not show it.
    return new DatabaseError(`Cannot connect to ${displayUrl}: ${message}`, "", e.code, {
      cause: error,
    });
  }
  if (opened && SESSION_LOST_CODES.has(String(e.code))) {
    return new DatabaseError(
      `the session with ${displayUrl} was closed by the server or the network during the run ` +
        `(${message}); strata does not reconnect in the middle of a run`,
      statement,
      e.code,
      { cause: error },
    );
  }
  return new DatabaseError(message, statement, e.code, { cause: error });
}

/**
 * SQLSTATE classes of a failed connection: 08 connection exception, 28 invalid authorization,
 * 3D000 invalid catalog name (no such database), 53 insufficient resources (too many
 * connections), 57P03 cannot connect now (starting up or shutting down).
 */
const CONNECT_SQLSTATE = /^(08|28|3D000|53|57P03)/;

/** Errors of a session that was open and is gone (a reset, a closed socket). */
const SESSION_LOST_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
]);

/** The driver's own errors about a query (not about connecting). */
const QUERY_CODES = new Set([
  "UNDEFINED_VALUE",
  "MAX_PARAMETERS_EXCEEDED",
  "UNSAFE_TRANSACTION",
  "NOT_TAGGED_CALL",
]);

function isConnectError(error: unknown, opened: boolean): boolean {
  const code = (error as { code?: unknown }).code;
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "CONNECT_TIMEOUT") return true;
  if (opened) return false;
  // The server's own errors carry a severity; only some classes are about connecting.
  if ((error as { severity?: unknown }).severity !== undefined) {
    return typeof code === "string" && CONNECT_SQLSTATE.test(code);
  }
  // Before any statement succeeded, anything else but the driver's complaints about a query
  // is the socket, TLS, the authentication exchange or the URL (`TypeError: Invalid URL`).
  return !(typeof code === "string" && QUERY_CODES.has(code));
}
