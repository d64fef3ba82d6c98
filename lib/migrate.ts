/**
 * The database commands as a library: upgrade, downgrade, stamp, current.
 *
 * Each call loads the chain of the URL's dialect, opens the database, takes the locks
 * (in-process mutex, lockfile, PostgreSQL advisory lock), plans with the revision graph and
 * hands the plan to the runner. Dry runs (`sql: true`) take no lock and change nothing.
 *
 * @module
 */

import type { Connection } from "./db/connection.ts";
import { connectionError, openConnection } from "./db/open.ts";
import { openSqlite } from "./db/sqlite.ts";
import { type DatabaseTarget, DEFAULT_URL, parseDatabaseUrl, redactUrl } from "./db/url.ts";
import { openPostgres } from "./db/postgres.ts";
import { quoteIdent } from "./dialect/quote.ts";
import { getDialect } from "./dialect/dialect.ts";
import { sessionDialect } from "./dialect/session.ts";
import { type Chain, loadProjectChain, locateProject, type ProjectLocation } from "./project.ts";
import type { Revision } from "./revision/revision.ts";
import { RevisionError } from "./revision/graph.ts";
import { planDowngrade, planStamp, type PlanStep, planUpgrade } from "./runner/plan.ts";
import { acquireAdvisoryLock, acquireLockfile, acquireMutex, type Lock } from "./runner/lock.ts";
import {
  bookkeepingDdl,
  dropBookkeeping,
  ensureBookkeeping,
  executePlan,
  LOG_TABLE,
  MigrationError,
  openShadow,
  readVersions,
  type RunContext,
  type RunEvent,
  stampLogStatements,
  type StepResult,
  versionChangeStatements,
} from "./runner/runner.ts";
import { sleep } from "./runtime.ts";
import * as fs from "node:fs";
import * as path from "node:path";

export type { RunEvent, StepResult };

/** Options shared by every database command. */
export interface DatabaseOptions {
  /** Database URL (default `sqlite:./strata.db`). */
  readonly url?: string;
  /** Migrations root holding `sqlite/` and `postgresql/` (default `./migrations`, or embedded). */
  readonly dir?: string;
  /** Alembic's version table (default `alembic_version`). */
  readonly versionTable?: string;
  /** How long to wait for another run's lock, in ms (default 60,000). */
  readonly lockTimeoutMs?: number;
  /** A lockfile for PostgreSQL runs (SQLite's is always beside the database file). */
  readonly lockFile?: string;
  /** PostgreSQL `statement_timeout` for migration transactions, in ms. */
  readonly statementTimeoutMs?: number;
  /** PostgreSQL `lock_timeout` for migration transactions, in ms. */
  readonly lockWaitTimeoutMs?: number;
  /** Wait up to this long (ms) for the database to accept connections. */
  readonly waitTimeoutMs?: number;
  /** The command recorded in `strata_log`. */
  readonly command?: string;
  /** Progress, warnings and dry-run SQL as they happen. */
  readonly onEvent?: (event: RunEvent) => void;
}

/** The result of a command on the prepared project. */
function resultOf(
  prepared: Prepared,
  fields: Omit<MigrateResult, "dialect" | "chain">,
): MigrateResult {
  return { dialect: prepared.target.dialect, chain: prepared.chain.dir, ...fields };
}

/** Options of upgrade, downgrade and stamp. */
export interface MigrateOptions extends DatabaseOptions {
  /** Dry run: print the SQL instead of running it. */
  readonly sql?: boolean;
  /**
   * PostgreSQL: wait for the disk at every migration's commit. By default only the run's last
   * commit waits (the others use `synchronous_commit = off`), and it makes the earlier ones
   * durable with it; a failed run flushes them before it returns.
   */
  readonly flushEachCommit?: boolean;
}

/** What a command did. */
export interface MigrateResult {
  /** The dialect of the URL, which chose the chain. */
  readonly dialect: "sqlite" | "postgresql";
  /** The URL, password redacted. */
  readonly url: string;
  /** Where the chain came from. */
  readonly chain: string;
  /** Version-table rows (revision IDs, sorted) before the command. */
  readonly before: readonly string[];
  /** Version-table rows after the command; in a dry run, the rows it would leave. */
  readonly after: readonly string[];
  /** One result per planned migration, in run order (empty for `stamp`). */
  readonly steps: readonly StepResult[];
  /** True when `sql: true`: nothing was changed, the SQL went to `onEvent`. */
  readonly dryRun: boolean;
}

/** Where the database stands. */
export interface CurrentResult {
  /** The dialect of the URL, which chose the chain. */
  readonly dialect: "sqlite" | "postgresql";
  /** The URL, password redacted. */
  readonly url: string;
  /** Where the chain came from. */
  readonly chain: string;
  /**
   * The version table's rows (empty: at base, or no version table yet), each with whether it
   * is a head of the chain and its migration's message and file.
   */
  readonly revisions: readonly {
    readonly revision: string;
    readonly isHead: boolean;
    readonly message: string;
    readonly path: string;
  }[];
  /** True when the SQLite file does not exist (it is not created by asking). */
  readonly missing?: boolean;
}

/** The default version table, as Alembic names it. */
export const DEFAULT_VERSION_TABLE = "alembic_version";
const DEFAULT_LOCK_TIMEOUT_MS = 60_000;

interface Prepared {
  readonly url: string;
  readonly target: DatabaseTarget;
  readonly location: ProjectLocation;
  readonly chain: Chain;
  readonly versionTable: string;
}

/** An option the library cannot work with (exit code 2 on the command line). */
export class OptionError extends Error {
  /** Reports a bad option value. */
  constructor(message: string) {
    super(message);
    this.name = "OptionError";
  }
}

/**
 * A version table name strata can create and find again: not empty, and on PostgreSQL short
 * enough that the server does not cut it, nor its primary key's name (`<table>_pkc`), to the
 * same 63 bytes.
 */
function checkVersionTableName(name: string, target: DatabaseTarget): void {
  if (name.trim() === "") {
    throw new OptionError("Cannot use an empty version table name: give a table name");
  }
  const bytes = new TextEncoder().encode(name).length;
  if (target.dialect === "postgresql" && bytes > 59) {
    throw new OptionError(
      `Cannot use version table ${name}: ${bytes} bytes, and PostgreSQL cuts names (and the ` +
        "primary key's, <table>_pkc) to 63; use at most 59 bytes",
    );
  }
}

async function prepare(options: DatabaseOptions): Promise<Prepared> {
  const url = options.url ?? DEFAULT_URL;
  if (options.versionTable?.includes(".")) {
    // Taken as one name, it would create a table literally named "schema.table" and never
    // find the one Alembic keeps in that schema.
    throw new OptionError(
      `Cannot use version table ${options.versionTable}: schema-qualified version tables are ` +
        "not supported; give the table name, with the schema first on the search path",
    );
  }
  const target = parseDatabaseUrl(url);
  if (options.versionTable !== undefined) checkVersionTableName(options.versionTable, target);
  const location = locateProject({ dir: options.dir });
  const chain = await loadProjectChain(location, target.dialect, { requireChain: true });
  options.onEvent?.({
    type: "start",
    url: redactUrl(url),
    chain: location.embedded ? `${chain.dir} (embedded reference chains)` : chain.dir,
    revisions: chain.revisions.length,
    dryRun: (options as MigrateOptions).sql ?? false,
  });
  for (const warning of chain.warnings) options.onEvent?.({ type: "warning", message: warning });
  return {
    url,
    target,
    location,
    chain,
    versionTable: options.versionTable ?? DEFAULT_VERSION_TABLE,
  };
}

/** How long one connection attempt may take without `--wait` (a server that never answers). */
const CONNECT_ATTEMPT_MS = 10_000;

async function connectWithWait(url: string, options: DatabaseOptions): Promise<Connection> {
  const deadline = Date.now() + (options.waitTimeoutMs ?? 0);
  let delay = 100;
  for (;;) {
    const connection = openConnection(url);
    // Each attempt ends by the deadline: something that is not a PostgreSQL server can keep
    // the driver reconnecting for ever.
    const limit = options.waitTimeoutMs
      ? Math.max(1_000, deadline - Date.now())
      : CONNECT_ATTEMPT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        connection.execute("SELECT 1"),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `Cannot connect to ${redactUrl(url)}: no answer within ${limit / 1000} s ` +
                    "(is a database server listening there?)",
                ),
              ),
            limit,
          );
        }),
      ]);
      clearTimeout(timer);
      return connection;
    } catch (error) {
      clearTimeout(timer);
      // Closing a connection that never opened can itself hang: do not wait long for it.
      await Promise.race([connection.close().catch(() => {}), sleep(1_000)]);
      if (!options.waitTimeoutMs || Date.now() >= deadline) throw connectionError(error, url);
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
      delay = Math.min(delay * 2, 2_000);
    }
  }
}

/** The session that holds the PostgreSQL advisory lock (it takes locks, reads no arrays). */
function openLockSession(url: string): Connection {
  return openPostgres(url, { applicationName: "strata (lock)", fetchTypes: false });
}

/**
 * The lock session of a PostgreSQL run, already connecting while the main connection does:
 * its connection set-up is then off the critical path. Its first query is a harmless
 * `SELECT 1`; a failure here is left for the lock itself to report.
 */
function preconnectLockSession(prepared: Prepared): Connection | null {
  if (prepared.target.dialect !== "postgresql") return null;
  if (!getDialect(prepared.target.dialect).capabilities.advisoryLocks) return null;
  const session = openLockSession(prepared.target.url);
  session.execute("SELECT 1").catch(() => {});
  return session;
}

/**
 * The path of a database file as the file system resolves it (symlinks followed), so that
 * every spelling of one file gets the same lockfile. A file not created yet resolves through
 * its directory.
 */
function canonicalPath(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    try {
      return path.join(fs.realpathSync(path.dirname(file)), path.basename(file));
    } catch {
      return path.resolve(file); // a missing directory: opening the database reports it
    }
  }
}

/** The run's locks as the runner checks them. */
interface HeldLocks {
  /** A statement that fails when a lock is no longer held, for inside a transaction. */
  readonly guard: string | null;
}

/**
 * Take the locks, run `fn` with the means to check that they are still held, and release them
 * whatever happens.
 */
async function withLocks<T>(
  prepared: Prepared,
  connection: Connection,
  options: DatabaseOptions,
  fn: (held: HeldLocks) => Promise<T>,
  lockSession: Connection | null = null,
): Promise<T> {
  const locks: Lock[] = [];
  const timeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  // One deadline for all three layers: --lock-timeout bounds the whole wait.
  const deadline = Date.now() + timeoutMs;
  const remaining = () => Math.max(0, deadline - Date.now());
  const warn = (message: string) => options.onEvent?.({ type: "warning", message });
  let advisorySession: Connection | null = null;
  try {
    const lockFile = prepared.target.dialect === "sqlite"
      ? (prepared.target.memory ? null : `${canonicalPath(prepared.target.path)}.lock`)
      : options.lockFile ?? null;
    // Keyed like the lockfile where there is one: two spellings of one file share the lock.
    const mutexKey = lockFile ?? `${redactUrl(prepared.url)}#${prepared.versionTable}`;
    locks.push(await acquireMutex(mutexKey, timeoutMs));
    if (lockFile) {
      locks.push(
        await acquireLockfile(lockFile, {
          command: options.command ?? "strata",
          timeoutMs: remaining(),
          onWarning: warn,
        }),
      );
    }
    if (
      getDialect(connection.dialect).capabilities.advisoryLocks &&
      prepared.target.dialect === "postgresql"
    ) {
      advisorySession = lockSession ?? openLockSession(prepared.target.url);
      locks.push(
        await acquireAdvisoryLock(advisorySession, {
          versionTable: prepared.versionTable,
          timeoutMs: remaining(),
          onWarning: warn,
        }),
      );
    }
    // Locked: from here the run's session holds its work, and must not be quietly replaced.
    connection.pin?.();
    return await fn({ guard: locks.find((lock) => lock.guard)?.guard ?? null });
  } finally {
    for (const lock of locks.reverse()) await lock.release().catch(() => {});
    await (advisorySession ?? lockSession)?.close().catch(() => {});
  }
}

function runContext(
  prepared: Prepared,
  connection: Connection | null,
  options: MigrateOptions,
  command: string,
  held?: HeldLocks,
): RunContext {
  return {
    commitGuard: held?.guard,
    dialect: prepared.target.dialect,
    connection,
    versionTable: prepared.versionTable,
    dryRun: options.sql ?? false,
    timeouts: {
      statementTimeoutMs: options.statementTimeoutMs,
      lockTimeoutMs: options.lockWaitTimeoutMs,
    },
    flushEachCommit: options.flushEachCommit ?? false,
    command: options.command ?? command,
    onEvent: options.onEvent,
  };
}

/** Warn about what the log shows (nothing when there is no log table yet). */
async function warnAboutHistory(
  connection: Connection,
  prepared: Prepared,
  heads: readonly string[],
  options: DatabaseOptions,
): Promise<void> {
  const warn = (message: string) => options.onEvent?.({ type: "warning", message });
  for (const problem of await findLogProblems(connection, prepared.chain, heads)) warn(problem);
}

/**
 * Problems `strata_log` shows: a non-transactional migration left partly applied, and
 * applied migrations whose file changed since (checksum).
 */
export async function findLogProblems(
  connection: Connection,
  chain: Chain,
  heads: readonly string[],
): Promise<string[]> {
  if (!await tableExists(connection, LOG_TABLE)) return [];
  return logProblems(connection, chain, heads);
}

/** {@link findLogProblems} on a database known to have the log table. */
async function logProblems(
  connection: Connection,
  chain: Chain,
  heads: readonly string[],
): Promise<string[]> {
  // The latest row of each revision, picked by the database (the log grows with every run;
  // only one row per revision, and only the outcomes that can be a problem, come back).
  // Descending order puts NULLs where ascending order puts them last, on both dialects.
  const rows = await connection.query<
    {
      revision: string;
      direction: string;
      outcome: string;
      checksum: string | null;
      detail: string | null;
    }
  >(
    `SELECT revision, direction, outcome, checksum, detail FROM (
       SELECT revision, direction, outcome, checksum, detail, ROW_NUMBER() OVER (
         PARTITION BY revision ORDER BY started_at DESC, finished_at DESC) AS latest
         FROM ${LOG_TABLE} WHERE direction <> 'stamp') AS log
      WHERE latest = 1 AND outcome IN ('partial', 'applied')`,
  );
  const latest = new Map<string, (typeof rows)[number]>();
  for (const row of rows) latest.set(row.revision, row);
  const applied = appliedSet(chain, heads);
  const problems: string[] = [];
  for (const [revision, row] of latest) {
    if (row.outcome === "partial" && row.direction !== "down" && !applied.has(revision)) {
      problems.push(
        `${revision} was left partly applied by an earlier run (${row.detail ?? "no detail"}); ` +
          "it will run again from its first statement",
      );
    }
    if (row.outcome === "partial" && row.direction === "down" && applied.has(revision)) {
      problems.push(
        `${revision} was left partly unapplied by an earlier downgrade (${
          row.detail ?? "no detail"
        }); the database is between it and its down revision`,
      );
    }
    const known = chain.graph.get(revision);
    if (
      row.outcome === "applied" && applied.has(revision) && known && row.checksum &&
      row.checksum !== known.checksum
    ) {
      problems.push(
        `${revision} (${known.path}) has changed since it was applied (checksum differs)`,
      );
    }
  }
  return problems;
}

function appliedSet(chain: Chain, heads: readonly string[]): Set<string> {
  const applied = new Set<string>();
  const stack = [...heads];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (applied.has(id)) continue;
    const revision = chain.graph.get(id);
    if (!revision) continue;
    applied.add(id);
    stack.push(...revision.downRevisions, ...revision.dependsOn);
  }
  return applied;
}

function tableExists(connection: Connection, table: string): Promise<boolean> {
  return sessionDialect(connection.dialect).tableExists(connection, table);
}

type Planner = (chain: Chain, heads: readonly string[], target: string) => PlanStep[];

async function migrate(
  target: string,
  options: MigrateOptions,
  command: string,
  planner: Planner,
): Promise<MigrateResult> {
  const prepared = await prepare(options);
  if (options.sql) return await dryRun(prepared, target, options, command, planner);
  const file = prepared.target.dialect === "sqlite" && !prepared.target.memory
    ? prepared.target.path
    : null;
  if (file !== null && !fs.existsSync(file)) {
    // No database yet: a bad target, or nothing to do, must not leave an empty file behind.
    if (planner(prepared.chain, [], target).length === 0) {
      return resultOf(prepared, {
        url: redactUrl(prepared.url),
        before: [],
        after: [],
        steps: [],
        dryRun: false,
      });
    }
  }
  const lockSession = preconnectLockSession(prepared);
  let connection: Connection;
  try {
    connection = await connectWithWait(prepared.url, options);
  } catch (error) {
    await lockSession?.close().catch(() => {});
    throw error;
  }
  try {
    return await withLocks(prepared, connection, options, async (held) => {
      // Plan before creating anything: a bad target or an unknown current revision must leave
      // the database as it was, bookkeeping tables included.
      const before = await readVersions(connection, prepared.versionTable);
      const steps = planner(prepared.chain, before, target);
      const created = steps.length > 0
        ? await ensureBookkeeping(connection, prepared.versionTable)
        : [];
      await warnAboutHistory(connection, prepared, before, options);
      const context = runContext(prepared, connection, options, command, held);
      let results: StepResult[];
      try {
        results = await executePlan(context, steps, null);
      } catch (error) {
        // The first migration failed and left nothing (rolled back, no partial record): the
        // bookkeeping tables this run created go too. A SQLite file the run created stays (with
        // nothing in it): another run may have opened it already, waiting for the lock.
        const changed = !(error instanceof MigrationError) || error.partial ||
          (error.results ?? []).some((r) => r.status === "applied");
        if (created.length > 0 && !changed) {
          await dropBookkeeping(connection, created).catch(() => {});
        }
        throw error;
      }
      return resultOf(prepared, {
        url: connection.displayUrl,
        before,
        after: steps.length > 0 ? await selectVersions(connection, prepared.versionTable) : before,
        steps: results,
        dryRun: false,
      });
    }, lockSession);
  } finally {
    await connection.close();
  }
}

/** The version table's rows, on a database where it exists. */
async function selectVersions(connection: Connection, versionTable: string): Promise<string[]> {
  const rows = await connection.query<{ version_num: string }>(
    `SELECT version_num FROM ${quoteIdent(versionTable)} ORDER BY version_num`,
  );
  return rows.map((r) => r.version_num);
}

/** Split a dry run's `from:to` range; without one, `from` is read from the database. */
function splitRange(target: string): { from: string | null; to: string } {
  const colon = target.indexOf(":");
  if (colon < 0) return { from: null, to: target };
  // An empty side of a range is base, as it always was here (a whole empty target is refused).
  return { from: target.slice(0, colon), to: target.slice(colon + 1).trim() || "base" };
}

async function dryRun(
  prepared: Prepared,
  target: string,
  options: MigrateOptions,
  command: string,
  planner: Planner,
): Promise<MigrateResult> {
  const { from, to } = splitRange(target);
  const print = (text: string) => options.onEvent?.({ type: "sql", text });
  let connection: Connection | null = null;
  let before: string[] = [];
  let tablesExist = false;
  try {
    if (from === null) {
      connection = await openForDryRun(prepared, options);
      if (connection) {
        before = await readVersions(connection, prepared.versionTable);
        tablesExist = await tableExists(connection, prepared.versionTable) &&
          await tableExists(connection, LOG_TABLE);
      }
    } else {
      before = from === "base" || from === "" ? [] : resolveHeads(prepared.chain, from);
    }
    const steps = planner(prepared.chain, before, to);
    const shadow = await openShadow(prepared.target.dialect, connection);
    try {
      if (shadow && !connection && before.length > 0) {
        // No database to copy the schema from: replay the chain up to `from` in memory.
        await replayInto(shadow, prepared, before);
      }
      if (!tablesExist) {
        for (const ddl of bookkeepingDdl(prepared.target.dialect, prepared.versionTable)) {
          print(`${ddl};`);
          if (shadow) await shadow.execute(ddl);
        }
        print("");
      }
      const context = runContext(prepared, connection, options, command);
      const results = await executePlan(context, steps, shadow);
      return resultOf(prepared, {
        url: redactUrl(prepared.url),
        before,
        after: steps.length > 0 ? applyVersionChanges(before, steps) : before,
        steps: results,
        dryRun: true,
      });
    } finally {
      await shadow?.close();
    }
  } finally {
    await connection?.close();
  }
}

function resolveHeads(chain: Chain, from: string): string[] {
  return chain.graph.resolve(from).map((r: Revision) => r.revision);
}

function applyVersionChanges(before: readonly string[], steps: readonly PlanStep[]): string[] {
  const rows = new Set(before);
  for (const step of steps) {
    for (const r of step.removeVersions) rows.delete(r);
    for (const a of step.addVersions) rows.add(a);
  }
  return [...rows].sort();
}

/** A dry run reads the database when it exists, and never creates a SQLite file. */
async function openForDryRun(prepared: Prepared, options: MigrateOptions) {
  if (prepared.target.dialect === "sqlite") {
    if (prepared.target.memory || !fs.existsSync(prepared.target.path)) return null;
    return openSqlite(prepared.target.path, {
      readOnly: true,
      displayUrl: redactUrl(prepared.url),
    });
  }
  return await connectWithWait(prepared.url, options);
}

async function replayInto(shadow: Connection, prepared: Prepared, heads: readonly string[]) {
  const steps = planUpgrade(prepared.chain.graph, [], heads.length === 1 ? heads[0] : "heads");
  const silent: RunContext = {
    dialect: prepared.target.dialect,
    connection: null,
    versionTable: prepared.versionTable,
    dryRun: true,
    command: "replay",
  };
  await executePlan(silent, steps, shadow);
}

/** Upgrade to a target (default `head`). */
export function upgrade(target = "head", options: MigrateOptions = {}): Promise<MigrateResult> {
  return migrate(
    target,
    options,
    `upgrade ${target}`,
    (chain, heads, to) => planUpgrade(chain.graph, heads, to),
  );
}

/** Downgrade to a target (default `-1`). */
export function downgrade(target = "-1", options: MigrateOptions = {}): Promise<MigrateResult> {
  return migrate(
    target,
    options,
    `downgrade ${target}`,
    (chain, heads, to) => planDowngrade(chain.graph, heads, to),
  );
}

/** Set the version table to a target without running migrations. */
export async function stamp(
  target: string,
  options: MigrateOptions & { purge?: boolean } = {},
): Promise<MigrateResult> {
  const prepared = await prepare(options);
  const print = (text: string) => options.onEvent?.({ type: "sql", text });
  const command = options.command ?? `stamp ${target}`;
  if (options.sql) {
    const { from, to } = splitRange(target);
    let before: string[] = [];
    let tablesExist = false;
    if (from !== null) {
      before = from === "base" || from === "" ? [] : resolveHeads(prepared.chain, from);
    } else {
      const connection = await openForDryRun(prepared, options);
      if (connection) {
        try {
          before = await readVersions(connection, prepared.versionTable);
          tablesExist = await tableExists(connection, prepared.versionTable) &&
            await tableExists(connection, LOG_TABLE);
        } finally {
          await connection.close();
        }
      }
    }
    // Planned first: a bad target prints nothing.
    const change = planStamp(prepared.chain.graph, before, to, { purge: options.purge ?? false });
    if (!tablesExist) {
      for (const ddl of bookkeepingDdl(prepared.target.dialect, prepared.versionTable)) {
        print(`${ddl};`);
      }
    }
    const context = runContext(prepared, null, options, command);
    print(`${getDialect(prepared.target.dialect).beginStatement};`);
    for (const s of stampStatements(prepared, change, options.purge ?? false)) {
      print(`${s};`);
    }
    for (const s of stampLogStatements(context, revisionsOf(prepared.chain, change.add))) {
      print(`${s};`);
    }
    print("COMMIT;");
    return resultOf(prepared, {
      url: redactUrl(prepared.url),
      before,
      after: applyStamp(before, change, options.purge ?? false),
      steps: [],
      dryRun: true,
    });
  }
  const connection = await connectWithWait(prepared.url, options);
  try {
    return await withLocks(prepared, connection, options, async (held) => {
      const before = await readVersions(connection, prepared.versionTable);
      const change = planStamp(prepared.chain.graph, before, target, {
        purge: options.purge ?? false,
      });
      await ensureBookkeeping(connection, prepared.versionTable);
      const context = runContext(prepared, connection, options, command);
      await connection.execute(getDialect(prepared.target.dialect).beginStatement);
      try {
        for (const s of stampStatements(prepared, change, options.purge ?? false)) {
          await connection.execute(s);
        }
        for (const s of stampLogStatements(context, revisionsOf(prepared.chain, change.add))) {
          await connection.execute(s);
        }
        if (held.guard) {
          await connection.execute(held.guard).catch((error) => {
            throw new Error(
              "lost the PostgreSQL advisory lock (the server ended the session holding it); " +
                `not committed (${error instanceof Error ? error.message : String(error)})`,
            );
          });
        }
        await connection.execute("COMMIT");
      } catch (error) {
        await connection.execute("ROLLBACK").catch(() => {});
        throw error;
      }
      return resultOf(prepared, {
        url: connection.displayUrl,
        before,
        after: await readVersions(connection, prepared.versionTable),
        steps: [],
        dryRun: false,
      });
    });
  } finally {
    await connection.close();
  }
}

function stampStatements(
  prepared: Prepared,
  change: { remove: readonly string[]; add: readonly string[] },
  purge: boolean,
): string[] {
  if (purge) {
    return [
      `DELETE FROM ${quoteIdent(prepared.versionTable)}`,
      ...versionChangeStatements(prepared.versionTable, [], change.add),
    ];
  }
  return versionChangeStatements(prepared.versionTable, change.remove, change.add);
}

function applyStamp(
  before: readonly string[],
  change: { remove: readonly string[]; add: readonly string[] },
  purge: boolean,
): string[] {
  const rows = new Set(purge ? [] : before);
  for (const r of change.remove) rows.delete(r);
  for (const a of change.add) rows.add(a);
  return [...rows].sort();
}

function revisionsOf(chain: Chain, ids: readonly string[]): Revision[] {
  return ids.map((id) => chain.graph.get(id)).filter((r): r is Revision => r !== undefined);
}

/** The database's current revisions. Unknown revisions are an error. */
export async function current(options: DatabaseOptions = {}): Promise<CurrentResult> {
  const prepared = await prepare(options);
  const target = prepared.target;
  if (target.dialect === "sqlite" && !target.memory && !fs.existsSync(target.path)) {
    // Opening it would create it: a mistyped path would look like a new database at base.
    return {
      dialect: "sqlite",
      url: redactUrl(prepared.url),
      chain: prepared.chain.dir,
      revisions: [],
      missing: true,
    };
  }
  const connection = await connectWithWait(prepared.url, options);
  try {
    const rows = await readVersions(connection, prepared.versionTable);
    const heads = new Set(prepared.chain.graph.heads);
    const unknown = rows.filter((id) => !prepared.chain.graph.has(id));
    if (unknown.length > 0) {
      throw new RevisionError(
        "unknown-current",
        `Cannot show the current revision: ${connection.displayUrl} is at ${
          unknown.join(", ")
        }, which the chain in ${prepared.chain.dir} does not know`,
        unknown,
      );
    }
    return {
      dialect: prepared.target.dialect,
      url: connection.displayUrl,
      chain: prepared.chain.dir,
      revisions: rows.map((id) => {
        const revision = prepared.chain.graph.get(id)!;
        return {
          revision: id,
          isHead: heads.has(id),
          message: revision.message,
          path: revision.path,
        };
      }),
    };
  } finally {
    await connection.close();
  }
}
