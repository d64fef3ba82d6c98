/**
 * What the runner asks of a dialect around migrations (not DDL rendering): whether a table
 * exists, per-transaction timeouts, foreign-key handling for a run, checks before commit, and
 * the shadow database a dry run uses.
 *
 * @module
 */

import type { Connection } from "../db/connection.ts";
import type { DialectName } from "../revision/revision.ts";
import { quoteIdent, quoteLiteral } from "./quote.ts";
import { SqliteForeignKeyTracker } from "./sqlite_foreign_keys.ts";

/** Migration-specific timeouts (PostgreSQL); zero or absent means off. */
export interface MigrationTimeouts {
  readonly statementTimeoutMs?: number;
  readonly lockTimeoutMs?: number;
}

/**
 * SQL for a log row's start and finish times (ISO 8601) and duration in ms, measured by the
 * server: from the start of the row's transaction to the row's insert. `clockOffsetMs` (the
 * client's clock minus the server's) puts the times on the client's clock, like the log's
 * other rows; 0 leaves them on the server's (a dry run's script runs later, elsewhere).
 */
export type ServerTimesSql = (clockOffsetMs: number) => {
  startedAt: string;
  finishedAt: string;
  durationMs: string;
};

/**
 * Statements for a run whose commits, but the last, do not wait for the disk. The write-ahead
 * log is one sequence: the last commit, waiting, flushes every earlier one with its own, so a
 * run that reports success is on disk. Until then a crash of the server (PostgreSQL or its
 * machine) can undo the last few deferred migrations, each whole (version row, log row and
 * DDL are one transaction), never part of one. A run that fails flushes them before it ends.
 */
export interface FlushSettings {
  /** In a migration's transaction: its commit need not wait. */
  readonly defer: string;
  /**
   * Just before the run's last commit (or the flush after a failure): wait, whatever a
   * migration set for itself or for the session (back to the session's configured value).
   */
  readonly flush: string;
}

/**
 * Marks a migration's transaction, and checks the mark just before its commit: a statement
 * that ran outside the transaction (a session the driver replaced) cannot commit with it.
 */
export interface TransactionMark {
  set(id: string): string;
  check(id: string): string;
}

/**
 * Statements that let a migration be sent before the one ahead of it is answered: the one ahead
 * records, inside its transaction, that it committed; the one behind checks that first thing in
 * its own, and so runs nothing unless the one ahead committed.
 */
export interface PipelineChecks {
  committed(token: string): string;
  after(token: string): string;
}

/** See {@link SessionDialect.foreignKeyTracker}. */
export interface ForeignKeyTracker {
  /** Called with statements about to run, before they run. */
  before(statements: readonly string[]): Promise<void>;
  /**
   * Note statements about to run if that needs no lookup in the database, and say whether the
   * migration can then leave no violation (it only created tables, which have no rows): true,
   * and `added()` need not be asked. False, with nothing noted: give them to `before()`.
   */
  noteUnchecked(statements: readonly string[]): boolean;
  /** The violations added since the first statement. */
  added(): Promise<string[]>;
  /** How many violations the touched tables had before the migration touched them. */
  readonly preExisting: number;
  /** What could not be checked (tables whose foreign keys SQLite cannot check). */
  readonly warnings: readonly string[];
}

/** A session prepared for a run (see {@link SessionDialect.prepareRun}). */
export interface PreparedRun {
  /**
   * Before each migration, where the session can keep its write lock between migrations (absent
   * elsewhere, so the runner does no work per step): `keepLock` when it is a transactional SQL
   * migration, which may run under the lock kept from the migration before it; false when the
   * lock must be let go first (a TypeScript migration may wait on anything; a
   * non-transactional one commits as it goes).
   */
  readonly beforeStep?: (keepLock: boolean) => Promise<void>;
  /** Put the session back as it was before the run (always called, whatever happened). */
  restore(): Promise<void>;
}

/** The runner's view of a dialect. */
export interface SessionDialect {
  /** True when the table exists in the connection's current schema. */
  tableExists(connection: Connection, table: string): Promise<boolean>;
  /** Where a migration's commit can leave the wait for the disk to a later one of the run. */
  readonly flushSettings?: FlushSettings;
  /** Where statements can run outside the transaction they were sent for. */
  readonly transactionMark?: TransactionMark;
  /** Where sending a migration behind the one in progress saves a round trip. */
  readonly pipeline?: PipelineChecks;
  /**
   * Where the server can time a migration inside its transaction, so its log row can be sent
   * with its statements in one round trip (and before the migration ahead of it has finished);
   * absent elsewhere (SQLite, in the same process, runs them one by one anyway).
   */
  readonly serverTimes?: ServerTimesSql;
  /** The client's clock minus the server's, in ms (where there are {@link serverTimes}). */
  clockOffset?(connection: Connection): Promise<number>;
  /** Statements run right after `BEGIN` to set per-transaction timeouts. */
  transactionSettings(timeouts: MigrationTimeouts): string[];
  /**
   * The same timeouts for a non-transactional migration, which has no transaction to scope
   * them to: set for the session before its statements, reset after.
   */
  sessionSettings(timeouts: MigrationTimeouts): { set: string[]; reset: string[] };
  /** What {@link prepareRun} sends, and its restore, as a dry run prints them. */
  readonly runStatements: { readonly before: readonly string[]; readonly after: readonly string[] };
  /** Prepare the session for a run; {@link PreparedRun.restore} undoes it (always called). */
  prepareRun(connection: Connection): Promise<PreparedRun>;
  /**
   * A checker of one migration's foreign keys (SQLite, where enforcement is off during a run):
   * it sees each statement before it runs and reports the violations the migration added.
   * Null where the database enforces foreign keys itself.
   */
  foreignKeyTracker(connection: Connection): ForeignKeyTracker | null;
  /**
   * A script that recreates the connection's schema, and its AUTOINCREMENT counters, without
   * other rows (SQLite dry runs copy it to memory); null where a dialect has no shadow.
   */
  schemaScript(connection: Connection): Promise<string | null>;
}

const sqliteSession: SessionDialect = {
  async tableExists(connection, table) {
    const rows = await connection.query(
      "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = $1",
      [table],
    );
    return rows.length > 0;
  },
  // No flushSettings: a rollback-journal commit that skips its syncs can corrupt the file on
  // power loss, and WAL databases are left in the mode their owner chose.
  transactionSettings: () => [],
  sessionSettings: () => ({ set: [], reset: [] }),
  foreignKeyTracker: (connection) => new SqliteForeignKeyTracker(connection),
  runStatements: { before: ["PRAGMA foreign_keys=OFF"], after: ["PRAGMA foreign_keys=ON"] },
  async prepareRun(connection) {
    const [row] = await connection.query<{ foreign_keys: number }>("PRAGMA foreign_keys");
    const wasOn = Number(row?.foreign_keys ?? 0) === 1;
    // Must be issued outside a transaction: inside one, SQLite ignores it.
    await connection.execute("PRAGMA foreign_keys=OFF");
    const persist = await persistJournal(connection);
    // Only on a database this run created: others may be waiting to use any other one.
    const lock = persist && connection.createdFile ? new KeptLock(connection) : null;
    return {
      beforeStep: lock ? (keepLock) => lock.beforeStep(keepLock) : undefined,
      async restore() {
        try {
          await lock?.release();
        } finally {
          try {
            if (wasOn) await connection.execute("PRAGMA foreign_keys=ON");
          } finally {
            if (persist) await persist();
          }
        }
      },
    };
  },
  async schemaScript(connection) {
    // `_` is a LIKE wildcard: escape it, or a user table named like `sqliteX...` is left out.
    // A virtual table's shadow tables (FTS5's `_data`, `_idx`, ...) come with it, and may not
    // be created by hand.
    const rows = await connection.query<{ sql: string; type: string; name: string }>(
      `SELECT type, name, sql FROM sqlite_master
        WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
          AND name NOT IN (SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow')
        ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'view' THEN 1 WHEN 'index' THEN 2 ELSE 3 END, rowid`,
    );
    if (rows.length === 0) return "";
    return [...rows.map((r) => `${r.sql};`), ...await sequenceRows(connection)].join("\n");
  },
};

/**
 * A database in SQLite's default `delete` journal mode commits by deleting its rollback
 * journal, so every migration creates and deletes a file. For the run, strata's own connection
 * uses `persist` instead (the journal stays and its header is zeroed at commit): the same
 * atomicity and durability, fewer file-system operations per migration (about a fifth of the
 * time of a long chain of small migrations). The mode is per connection for these two modes;
 * the returned function switches back, which deletes the journal file. Other modes (WAL, an
 * in-memory database) are left alone: switching a WAL database would change it for good.
 * Dry runs do not print it: it is no statement about the schema, and the printed script may
 * be run against a WAL database.
 */
async function persistJournal(connection: Connection): Promise<(() => Promise<void>) | null> {
  // `main.` throughout: without it SQLite sets every attached database's mode, and makes it
  // the default of databases attached later.
  const mode = async () => {
    const [row] = await connection.query<{ journal_mode: string }>("PRAGMA main.journal_mode");
    return String(row?.journal_mode ?? "").toLowerCase();
  };
  if (await mode() !== "delete") return null;
  await connection.query("PRAGMA main.journal_mode=PERSIST");
  return async () => {
    try {
      // A migration that made the database WAL chose that for good: keep it. Other modes are
      // the connection's only; from any of them, by way of `persist`, switching to `delete`
      // removes the journal file (from `memory` directly it would stay).
      const now = await mode();
      if (now === "wal") return;
      if (now !== "persist") await connection.query("PRAGMA main.journal_mode=PERSIST");
      await connection.query("PRAGMA main.journal_mode=DELETE");
    } catch {
      // Another connection holds a lock: the zeroed journal left behind is not hot, and the
      // next commit in delete mode removes it.
    }
  };
}

/**
 * SQLite's write lock kept from one migration's commit to the next
 * (`PRAGMA main.locking_mode=EXCLUSIVE`) through a stretch of transactional SQL migrations, on a
 * database file the run created (in `persist` journal mode, see {@link persistJournal}). Each
 * commit still syncs the journal and the database as before (same atomicity and durability);
 * what it saves is taking and dropping the lock, and reopening and checking the journal, per
 * migration: about a tenth of the time of a long chain of small migrations. Nothing else can
 * read or write the database until the lock is let go: before every TypeScript or
 * non-transactional migration (which may open connections of their own, or wait on anything),
 * and when the run ends, failed or not. On a database that existed before the run this is not
 * done: a connection waiting there (with a busy timeout) gets in between two migrations, and
 * would not in the instant a kept lock is let go.
 */
export class KeptLock {
  #held = false;
  constructor(private readonly connection: Connection) {}
  async beforeStep(keepLock: boolean): Promise<void> {
    if (keepLock === this.#held) return;
    if (!keepLock) return await this.release();
    // `main.`: a database a migration attaches keeps its own locking.
    await this.connection.query("PRAGMA main.locking_mode=EXCLUSIVE");
    this.#held = true;
  }
  /** Back to normal locking: the lock goes the next time the file is read, so read it. */
  async release(): Promise<void> {
    if (!this.#held) return;
    this.#held = false;
    await this.connection.query("PRAGMA main.locking_mode=NORMAL");
    await this.connection.query("SELECT 1 AS touched FROM main.sqlite_master LIMIT 1");
  }
}

/**
 * The `sqlite_sequence` rows of the AUTOINCREMENT tables, as INSERTs for a schema copy: a
 * rebuild restores the table's counter, so a dry run prints that statement only when its
 * shadow holds the counter too. Creating an AUTOINCREMENT table creates `sqlite_sequence`,
 * so the rows of tables whose DDL says AUTOINCREMENT always have somewhere to go.
 */
async function sequenceRows(connection: Connection): Promise<string[]> {
  const [found] = await connection.query(
    "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'",
  );
  if (!found) return [];
  // As text: a counter past 2^53 would lose digits as a JavaScript number.
  const rows = await connection.query<{ name: string; seq: string }>(
    `SELECT s.name AS name, CAST(s.seq AS TEXT) AS seq FROM sqlite_sequence s
      JOIN sqlite_master m ON m.type = 'table' AND m.name = s.name
     WHERE m.sql LIKE '%AUTOINCREMENT%' AND typeof(s.seq) = 'integer'
     ORDER BY s.rowid`,
  );
  return rows.map((r) =>
    `INSERT INTO sqlite_sequence (name, seq) VALUES (${quoteLiteral(r.name)}, ${r.seq});`
  );
}

/** PostgreSQL's settings for a migration's timeouts, with their values as SQL. */
function timeoutSettings(timeouts: MigrationTimeouts): [string, string][] {
  const out: [string, string][] = [];
  if (timeouts.statementTimeoutMs) {
    out.push(["statement_timeout", interval(timeouts.statementTimeoutMs)]);
  }
  if (timeouts.lockTimeoutMs) out.push(["lock_timeout", interval(timeouts.lockTimeoutMs)]);
  return out;
}

function interval(ms: number): string {
  return quoteLiteral(`${Math.round(ms)}ms`);
}

const postgresSession: SessionDialect = {
  async tableExists(connection, table) {
    // A literal, not a parameter: a parameter costs the driver a Describe round trip first.
    const rows = await connection.query<{ found: boolean }>(
      `SELECT to_regclass(${quoteLiteral(quoteIdent(table))}) IS NOT NULL AS found`,
    );
    return rows[0]?.found === true;
  },
  flushSettings: {
    defer: "SET LOCAL synchronous_commit = off",
    // DEFAULT: the value the session would have without any SET (server, database, role or
    // connection settings), so a migration's own SET cannot leave the run unflushed.
    flush: "SET LOCAL synchronous_commit = DEFAULT",
  },
  // A session setting set inside the transaction: a transaction that fails takes it back.
  pipeline: {
    committed: (token) => `SET strata.committed = ${quoteLiteral(token)}`,
    after: (token) =>
      `SELECT CASE WHEN current_setting('strata.committed', true) IS DISTINCT FROM ${
        quoteLiteral(token)
      } THEN current_setting('strata.previous_migration_failed') END AS after_previous`,
  },
  // A custom setting, local to the transaction: unset (or empty) anywhere else.
  transactionMark: {
    set: (id) => `SET LOCAL strata.migration = ${quoteLiteral(id)}`,
    check: (id) =>
      `SELECT CASE WHEN current_setting('strata.migration', true) IS DISTINCT FROM ${
        quoteLiteral(id)
      } THEN current_setting('strata.transaction_lost') END AS in_transaction`,
  },
  // now() is the transaction's start, clock_timestamp() the moment of the row's insert.
  serverTimes: (offset) => {
    const shift = Math.abs(offset) >= 0.5 ? ` + interval '${offset.toFixed(1)} milliseconds'` : "";
    const iso = (time: string) =>
      `to_char((${time}${shift}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    return {
      startedAt: iso("now()"),
      finishedAt: iso("clock_timestamp()"),
      durationMs: "round(extract(epoch FROM clock_timestamp() - now()) * 1000)::integer",
    };
  },
  async clockOffset(connection) {
    const before = Date.now();
    const [row] = await connection.query<{ ms: string | number }>(
      "SELECT extract(epoch FROM clock_timestamp()) * 1000 AS ms",
    );
    return (before + Date.now()) / 2 - Number(row.ms);
  },
  transactionSettings(timeouts) {
    return timeoutSettings(timeouts).map(([name, value]) => `SET LOCAL ${name} = ${value}`);
  },
  sessionSettings(timeouts) {
    const settings = timeoutSettings(timeouts);
    return {
      set: settings.map(([name, value]) => `SET ${name} = ${value}`),
      // RESET: back to the value of the session's start (server, database, role, connection).
      reset: settings.map(([name]) => `RESET ${name}`),
    };
  },
  runStatements: { before: [], after: [] },
  prepareRun: () => Promise.resolve({ restore: () => Promise.resolve() }),
  foreignKeyTracker: () => null,
  schemaScript: () => Promise.resolve(null),
};

/** The runner's view of a dialect. */
export function sessionDialect(name: DialectName): SessionDialect {
  return name === "sqlite" ? sqliteSession : postgresSession;
}
