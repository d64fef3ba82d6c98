/**
 * The runner: executes a plan on a database, one transaction per migration, or prints it.
 *
 * Each migration runs in its own transaction together with its version-table change and its
 * `strata_log` row, so a failure leaves the database at the previous revision. Migrations
 * marked non-transactional run statement by statement in autocommit; the version table moves
 * only after their last statement, and a failure is recorded in `strata_log` as partial.
 * A dry run prints exactly the statements a real run would send and changes nothing.
 *
 * @module
 */

import type { Connection } from "../db/connection.ts";
import { DatabaseError } from "../db/connection.ts";
import { openSqlite } from "../db/sqlite.ts";
import { getDialect } from "../dialect/dialect.ts";
import { quoteIdent, quoteLiteral } from "../dialect/quote.ts";
import {
  type ForeignKeyTracker,
  type MigrationTimeouts,
  type PreparedRun,
  type ServerTimesSql,
  sessionDialect,
} from "../dialect/session.ts";
import type { Executor, Row } from "../ops/executor.ts";
import { createMigrationContext } from "../ops/context.ts";
import type { DialectName, MigrationStep, Revision } from "../revision/revision.ts";
import { splitSqlStatements } from "../revision/script.ts";
import type { PlanStep } from "./plan.ts";
import { hostname, pid } from "../runtime.ts";

/** The table where strata records every applied and unapplied revision. */
export const LOG_TABLE = "strata_log";

/** Something the runner reports while it works. */
export type RunEvent =
  /** Where the run goes: the database (redacted) and the chain it uses. */
  | {
    readonly type: "start";
    readonly url: string;
    readonly chain: string;
    readonly revisions: number;
    readonly dryRun: boolean;
  }
  | { readonly type: "warning"; readonly message: string }
  | { readonly type: "step"; readonly step: PlanStep; readonly durationMs: number }
  /** A dry run's output, one statement or comment at a time, ready to print. */
  | { readonly type: "sql"; readonly text: string };

/** The outcome of one planned migration. */
export interface StepResult {
  /** The revision ID. */
  readonly revision: string;
  /** `up` for an upgrade step, `down` for a downgrade step. */
  readonly direction: "up" | "down";
  /** The migration file (relative to the cwd when possible). */
  readonly path: string;
  /** The slug of the file name, e.g. `add_labels`. */
  readonly slug: string;
  /** `YYYY_MM_DD_HHMMSS` from the file name, or null when it has none. */
  readonly timestamp: string | null;
  /**
   * `applied` (also in a dry run, where it was printed), `failed`, or `not run` because an
   * earlier step failed.
   */
  readonly status: "applied" | "failed" | "not run";
  /** Wall-clock time of the step in milliseconds (0 when not run). */
  readonly durationMs: number;
  /** The failure's message, on the `failed` step only. */
  readonly error?: string;
}

/** A migration failed; the database is at the revision before it (or partly applied). */
export class MigrationError extends Error {
  /** The revision ID of the failed migration. */
  readonly revision: string;
  /** The migration file. */
  readonly path: string;
  /** The statement that failed, or null when the failure was not in a statement. */
  readonly statement: string | null;
  /** The 1-based line of `statement` in a `.sql` file; null for TypeScript or the runner's own. */
  readonly line: number | null;
  /** True when a non-transactional migration stopped half way. */
  readonly partial: boolean;
  /** Steps up to and including the failure (for structured results). */
  results: StepResult[] = [];
  /**
   * Describes the failure of `step`; the message is `Cannot apply|unapply <rev> (<path>): ...`.
   *
   * @param step The planned step that failed.
   * @param detail Why it failed, the statement and line, whether it stopped half way, and the
   * underlying error.
   */
  constructor(
    step: PlanStep,
    detail: {
      reason: string;
      statement?: string | null;
      line?: number | null;
      partial?: boolean;
      cause?: unknown;
    },
  ) {
    const verb = step.direction === "up" ? "apply" : "unapply";
    super(
      `Cannot ${verb} ${step.revision.revision} (${step.revision.path}): ${detail.reason}`,
      { cause: detail.cause },
    );
    this.name = "MigrationError";
    this.revision = step.revision.revision;
    this.path = step.revision.path;
    this.statement = detail.statement ?? null;
    this.line = detail.line ?? null;
    this.partial = detail.partial ?? false;
  }
}

/** How the runner talks to the database. */
export interface RunContext {
  readonly dialect: DialectName;
  /** The real database; null for a dry run without one. */
  readonly connection: Connection | null;
  readonly versionTable: string;
  readonly dryRun: boolean;
  readonly timeouts?: MigrationTimeouts;
  /**
   * Wait for the disk at every migration's commit. By default (PostgreSQL) only the run's last
   * commit waits, and it flushes the earlier ones with it; see `TransactionOptions.deferFlush`.
   */
  readonly flushEachCommit?: boolean;
  /** The command, recorded in `strata_log` (e.g. `upgrade head`). */
  readonly command: string;
  /**
   * A statement that fails when the run's locks are no longer held (PostgreSQL's advisory
   * lock): sent inside each migration's transaction before its COMMIT, in the same round trip,
   * and alone before a non-transactional migration.
   */
  readonly commitGuard?: string | null;
  readonly onEvent?: (event: RunEvent) => void;
}

/** Statements that create the version table and the log table. */
export function bookkeepingDdl(dialect: DialectName, versionTable: string): string[] {
  return [
    getDialect(dialect).createVersionTable(versionTable),
    `CREATE TABLE IF NOT EXISTS ${LOG_TABLE} (` +
    "revision VARCHAR(32) NOT NULL, direction VARCHAR(8) NOT NULL, " +
    "outcome VARCHAR(10) NOT NULL, checksum VARCHAR(64), filename VARCHAR(255), " +
    "version_table VARCHAR(64), started_at VARCHAR(32) NOT NULL, finished_at VARCHAR(32), " +
    "duration_ms INTEGER, host VARCHAR(255), pid INTEGER, command VARCHAR(255), detail TEXT)",
  ];
}

/** Read the version table's rows; an absent table reads as no rows. */
export async function readVersions(connection: Connection, versionTable: string) {
  if (!await sessionDialect(connection.dialect).tableExists(connection, versionTable)) return [];
  const rows = await connection.query<{ version_num: string }>(
    `SELECT version_num FROM ${quoteIdent(versionTable)} ORDER BY version_num`,
  );
  return rows.map((r) => r.version_num);
}

/**
 * Create the version and log tables when missing, together in one transaction (on SQLite
 * each commit costs several file syncs; a first run pays for one, not two). Tables that
 * exist are only looked up, so a run on a migrated database writes nothing here.
 */
export async function ensureBookkeeping(
  connection: Connection,
  versionTable: string,
): Promise<string[]> {
  const session = sessionDialect(connection.dialect);
  const ddl = bookkeepingDdl(connection.dialect, versionTable);
  const tables = [versionTable, LOG_TABLE];
  const missing: number[] = [];
  for (let i = 0; i < tables.length; i++) {
    if (!await session.tableExists(connection, tables[i])) missing.push(i);
  }
  if (missing.length === 0) return [];
  await connection.execute(connection.dialect === "sqlite" ? "BEGIN IMMEDIATE" : "BEGIN");
  try {
    for (const i of missing) await connection.execute(ddl[i]);
    await connection.execute("COMMIT");
  } catch (error) {
    await connection.execute("ROLLBACK").catch(() => {});
    throw error;
  }
  return missing.map((i) => tables[i]);
}

/**
 * Undo {@link ensureBookkeeping} after a run that changed nothing else (its first migration
 * failed and was rolled back): the database's schema is left as it was found.
 */
export async function dropBookkeeping(
  connection: Connection,
  created: readonly string[],
): Promise<void> {
  await connection.execute("ROLLBACK").catch(() => {});
  await connection.execute(connection.dialect === "sqlite" ? "BEGIN IMMEDIATE" : "BEGIN");
  try {
    for (const table of created) await connection.execute(`DROP TABLE ${quoteIdent(table)}`);
    await connection.execute("COMMIT");
  } catch (error) {
    await connection.execute("ROLLBACK").catch(() => {});
    throw error;
  }
}

/** The statements that move the version table from `remove` to `add`. */
export function versionChangeStatements(
  versionTable: string,
  remove: readonly string[],
  add: readonly string[],
): string[] {
  const table = quoteIdent(versionTable);
  if (remove.length === 1 && add.length === 1) {
    return [
      `UPDATE ${table} SET version_num=${quoteLiteral(add[0])} WHERE ${table}.version_num = ${
        quoteLiteral(remove[0])
      }`,
    ];
  }
  return [
    ...remove.map((r) => `DELETE FROM ${table} WHERE ${table}.version_num = ${quoteLiteral(r)}`),
    ...add.map((a) => `INSERT INTO ${table} (version_num) VALUES (${quoteLiteral(a)})`),
  ];
}

interface LogEntry {
  revision: string;
  direction: "up" | "down" | "stamp";
  outcome: "applied" | "unapplied" | "partial" | "stamped";
  checksum: string | null;
  filename: string | null;
  startedAt: Date;
  finishedAt: Date;
  detail?: string | null;
}

/** This host and process, read once: the log records them on every row. */
let origin: { host: string; pid: number } | null = null;
function logOrigin(): { host: string; pid: number } {
  return origin ??= { host: hostname(), pid: pid() };
}

/** The literals every log row of a run repeats (version table; host, pid, command), once. */
const runLiterals = new WeakMap<RunContext, { versionTable: string; who: string }>();
function runLiteralsOf(context: RunContext): { versionTable: string; who: string } {
  let found = runLiterals.get(context);
  if (!found) {
    found = {
      versionTable: literal(context.versionTable),
      who: [
        literal(logOrigin().host),
        literal(logOrigin().pid),
        literal(context.command.slice(0, 255)),
      ].join(", "),
    };
    runLiterals.set(context, found);
  }
  return found;
}

function literal(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "NULL";
  return typeof value === "number" ? String(value) : quoteLiteral(value);
}

/**
 * The `strata_log` row of one event, as one statement with literal values; with `elapsed`,
 * its finish time and duration are measured by the server when the row is inserted (the
 * statement can then be sent before the migration's statements have run).
 */
export function logStatement(
  context: RunContext,
  entry: LogEntry,
  times?: ReturnType<ServerTimesSql>,
): string {
  const run = runLiteralsOf(context);
  const values = [
    literal(entry.revision),
    literal(entry.direction),
    literal(entry.outcome),
    literal(entry.checksum),
    literal(entry.filename),
    run.versionTable,
    times?.startedAt ?? literal(entry.startedAt.toISOString()),
    times?.finishedAt ?? literal(entry.finishedAt.toISOString()),
    times?.durationMs ?? literal(entry.finishedAt.getTime() - entry.startedAt.getTime()),
    run.who,
    literal(entry.detail ?? null),
  ];
  return `INSERT INTO ${LOG_TABLE} (revision, direction, outcome, checksum, filename, ` +
    "version_table, started_at, finished_at, duration_ms, host, pid, command, detail) VALUES (" +
    values.join(", ") + ")";
}

/**
 * Sends statements to the real database, inside or outside a transaction.
 *
 * Statements the runner itself opens a transaction with (`BEGIN`, its settings) are held
 * back and sent together with the next statement, and the version change, log row and
 * `COMMIT` go as one batch: on PostgreSQL each batch is one round trip. Every statement is
 * still its own protocol message, so a failure names the statement that failed.
 */
class LiveExecutor implements Executor {
  readonly dryRun = false;
  /** The statement being run, for error messages. */
  current: { sql: string; line: number | null } | null = null;
  #pending: SqlStatement[] = [];
  /** Checks each statement a TypeScript migration sends before it goes out. */
  guard: ((statement: string) => void) | null = null;
  /** Calls not finished yet (see {@link InFlightCalls}). */
  readonly calls = new InFlightCalls();
  constructor(
    private readonly connection: Connection,
    readonly inTransaction: boolean,
    /** Sees every statement before it runs (SQLite foreign-key checks). */
    private readonly tracker: ForeignKeyTracker | null = null,
  ) {}
  get dialect(): DialectName {
    return this.connection.dialect;
  }
  get checksForeignKeys(): boolean {
    return this.tracker !== null;
  }
  addedForeignKeyViolations(): Promise<readonly string[]> {
    return this.tracker ? this.tracker.added() : Promise.resolve([]);
  }
  /**
   * Queue statements to go with the next batch (only inside a transaction: a failure there
   * stops everything after it, so they can all be sent before the first is answered).
   */
  defer(statements: readonly SqlStatement[]): void {
    this.#pending.push(...statements);
  }
  /**
   * Note the queued statements with the tracker if that needs no lookup; true when they then
   * need no foreign-key check before the commit (see `ForeignKeyTracker.noteUnchecked`).
   */
  noteQueuedUnchecked(): boolean {
    if (!this.tracker) return false;
    const theirs = this.#pending.filter((s) => !OWN.has(s));
    if (!this.tracker.noteUnchecked(theirs.map((s) => s.sql))) return false;
    for (const s of theirs) NOTED.add(s);
    return true;
  }
  /** Send the queued statements, then these, as one batch (`onSent`: see executeBatch). */
  async flush(statements: readonly SqlStatement[] = [], onSent?: () => void): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    await this.#batch(pending.length > 0 ? [...pending, ...statements] : statements, onSent);
  }
  async run(statement: string, params: readonly unknown[] = [], line: number | null = null) {
    this.guard?.(statement);
    if (this.#pending.length > 0) {
      if (params.length === 0) return await this.flush([{ sql: statement, line }]);
      await this.flush();
    }
    await this.tracker?.before([statement]);
    this.current = { sql: statement, line };
    await this.connection.execute(statement, params);
    // Done: an error thrown later (by a TypeScript migration) is not this statement's.
    this.current = null;
  }
  async query<T extends Row = Row>(
    statement: string,
    params: readonly unknown[] = [],
  ): Promise<T[]> {
    this.guard?.(statement);
    await this.flush();
    await this.tracker?.before([statement]);
    this.current = { sql: statement, line: null };
    const rows = await this.connection.query<T>(statement, params);
    this.current = null;
    return rows;
  }
  comment(): void {}
  async #batch(batch: readonly SqlStatement[], onSent?: () => void): Promise<void> {
    if (batch.length === 0) return onSent?.();
    if (this.tracker) {
      // strata's own statements (BEGIN, bookkeeping, COMMIT) are not the migration's.
      const theirs: string[] = [];
      for (const s of batch) if (!OWN.has(s) && !NOTED.has(s)) theirs.push(s.sql);
      if (theirs.length > 0) await this.tracker.before(theirs);
    }
    this.current = batch[batch.length - 1];
    try {
      await this.connection.executeBatch(batch.map((s) => s.sql), onSent);
    } catch (error) {
      const index = error instanceof DatabaseError ? error.batchIndex : null;
      if (index !== null && batch[index]) this.current = batch[index];
      throw error;
    }
    this.current = null;
  }
}

/** Prints statements; keeps a shadow database (SQLite) current so queries see prior DDL. */
class DryRunExecutor implements Executor {
  readonly dryRun = true;
  current: { sql: string; line: number | null } | null = null;
  constructor(
    readonly dialect: DialectName,
    readonly inTransaction: boolean,
    private readonly print: (text: string) => void,
    private readonly shadow: Connection | null,
  ) {}
  async run(statement: string, params: readonly unknown[] = [], line: number | null = null) {
    this.current = { sql: statement, line };
    this.print(terminate(statement));
    if (params.length > 0) {
      const json = JSON.stringify(params, (_, v) => typeof v === "bigint" ? v.toString() : v);
      this.print(`-- parameters: ${json}`);
    }
    if (this.shadow) await this.shadow.execute(statement, params);
  }
  async query<T extends Row = Row>(statement: string, params: readonly unknown[] = []) {
    this.current = { sql: statement, line: null };
    if (this.shadow) return await this.shadow.query<T>(statement, params);
    this.print(`-- query not run in a dry run (it would read the database): ${oneLine(statement)}`);
    return [] as T[];
  }
  comment(text: string): void {
    this.print(`-- ${text}`);
  }
}

/** A statement and the line of its file it starts on (null: the runner's own). */
interface SqlStatement {
  readonly sql: string;
  readonly line: number | null;
}

/**
 * Statements that end, or partly undo, a transaction: after a failure the server skips the
 * rest of a failed transaction's statements, except these. A migration with any of them is
 * sent statement by statement, each after the previous one succeeded.
 */
const TRANSACTION_CONTROL =
  /^(?:\s|--[^\n]*\n|\/\*[^]*?\*\/)*(?:begin|start|commit|end|rollback|abort|savepoint|release|prepare|set\s+transaction)\b/i;

/** A statement with its `;`, on a line of its own when the last line ends in a comment. */
function terminate(statement: string): string {
  const lastLine = statement.slice(statement.lastIndexOf("\n") + 1);
  return lastLine.includes("--") ? `${statement}\n;` : `${statement};`;
}

function oneLine(sql: string): string {
  const flat = sql.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 197)}...` : flat;
}

/**
 * Statements that end (or start) the transaction a transactional migration runs in: after
 * one, the rest of the migration and its version change would no longer be one unit. Savepoints
 * (`SAVEPOINT`, `RELEASE`, `ROLLBACK TO`) keep it open and are allowed.
 */
const ENDS_TRANSACTION =
  /^(?:\s|--[^\n]*\n|\/\*[^]*?\*\/)*(?:begin|start\s+transaction|commit|end|abort|rollback(?!\s+(?:transaction\s+|work\s+)?to\b)|prepare\s+transaction)\b/i;

/**
 * Statements that reset every setting of the session, those strata makes for the migration's
 * transaction too (its timeouts, the mark its commit checks, when the commit waits for the
 * disk).
 */
const RESETS_SESSION = /^(?:\s|--[^\n]*\n|\/\*[^]*?\*\/)*(?:reset\s+all|discard)\b/i;

/**
 * Refuse a statement that would end a transactional migration's transaction, or undo the
 * settings strata made for it. A text of several statements (sent at once, every one of them
 * runs) is checked statement by statement.
 */
function refuseTransactionControl(step: PlanStep, sql: string, line: number | null): void {
  const pieces = sql.includes(";") ? splitSqlStatements(sql).map((s) => s.sql) : [sql];
  for (const piece of pieces) {
    if (ENDS_TRANSACTION.test(piece)) {
      throw new MigrationError(step, {
        reason: "a transactional migration cannot end or begin its own transaction: strata runs " +
          "it in one with its version change; remove the statement, or make the migration " +
          'non-transactional (export const transactional = false, or "-- migrate:up ' +
          'transaction:false")',
        statement: sql,
        line,
      });
    }
    if (RESETS_SESSION.test(piece)) {
      throw new MigrationError(step, {
        reason: "a transactional migration cannot reset the whole session (RESET ALL, DISCARD): " +
          "that also undoes the settings strata makes for the migration's transaction; reset " +
          "the settings the migration changed by name (RESET search_path), or use SET LOCAL",
        statement: sql,
        line,
      });
    }
  }
}

async function runStepBody(
  step: PlanStep,
  body: MigrationStep,
  executor: LiveExecutor | DryRunExecutor,
): Promise<void> {
  if (body.kind === "sql" && body.transactional) {
    // Before anything runs: the database stays as it was.
    for (const statement of body.statements) {
      refuseTransactionControl(step, statement.sql, statement.line);
    }
  }
  if (body.kind === "sql") {
    if (executor instanceof LiveExecutor && body.transactional && sentWhole(body)) {
      // Inside its transaction a failure stops everything after it: the statements go out
      // with the BEGIN before them and the version change and COMMIT after them (one round
      // trip on PostgreSQL), and the first failure names its own statement.
      return executor.defer(body.statements);
    }
    for (const statement of body.statements) {
      await executor.run(statement.sql, [], statement.line);
    }
    return;
  }
  if (executor instanceof LiveExecutor && body.transactional) {
    executor.guard = (sql) => refuseTransactionControl(step, sql, null);
  }
  try {
    await body.run(
      createMigrationContext(executor, step.revision.revision, {
        track: executor instanceof LiveExecutor
          ? (promise) => executor.calls.track(promise)
          : undefined,
      }),
    );
  } finally {
    if (executor instanceof LiveExecutor) executor.guard = null;
  }
  if (executor instanceof LiveExecutor) await executor.calls.settled(step);
}

/**
 * The database calls of a TypeScript migration still running: one that forgets an `await`
 * must not commit before its statement ran, nor hide its failure.
 */
class InFlightCalls {
  readonly #calls = new Set<Promise<unknown>>();
  #failure: { error: unknown } | null = null;
  track<T>(promise: Promise<T>): Promise<T> {
    this.#calls.add(promise);
    promise.then(
      () => this.#calls.delete(promise),
      (error) => {
        this.#calls.delete(promise);
        this.#failure ??= { error };
      },
    );
    return promise;
  }
  /** After the migration's function returned: wait for stragglers; fail if there were any. */
  async settled(step: PlanStep): Promise<void> {
    const unfinished = this.#calls.size;
    await Promise.allSettled([...this.#calls]);
    if (this.#failure) throw this.#failure.error;
    if (unfinished > 0) {
      throw new MigrationError(step, {
        reason: `${unfinished} database call(s) were still running when its function returned ` +
          "(a missing await?); nothing was committed",
      });
    }
  }
}

/** What a migration's commit left: its log row, and whether its flush was left to a later. */
interface Committed {
  readonly log: LogEntry;
  readonly deferred: boolean;
}

/** How a migration is sent behind the one in progress (see {@link PipelineChecks}). */
interface PipeOptions {
  /** The token the migration ahead sets when it commits: run only if it did. */
  readonly after?: string | null;
  /** Set this token when committing, for the migration behind. */
  readonly token?: string | null;
  /** Called once the whole migration has been handed to the session. */
  readonly onSent?: () => void;
  /** The client's clock minus the server's (see ServerTimesSql). */
  readonly clockOffsetMs?: number;
}

/** A migration sent and not answered yet. */
interface InFlight {
  readonly index: number;
  readonly step: PlanStep;
  readonly sentAt: number;
  readonly token: string | null;
  readonly completion: Promise<Committed>;
}

/**
 * Whether a migration can be sent behind the one in progress: a transactional SQL migration
 * sent whole, which needs no answer from the database before its commit.
 */
function sentWholeStep(step: PlanStep): boolean {
  const body = bodyOf(step);
  return body.transactional && sentWhole(body);
}

/**
 * Whether a migration may run under a write lock kept from the one before it (see
 * `PreparedRun.beforeStep`): a transactional SQL migration, which waits on nothing but the
 * database.
 */
function keepsLock(step: PlanStep): boolean {
  const body = bodyOf(step);
  return body.transactional && body.kind === "sql";
}

function canPipeline(context: RunContext, step: PlanStep): boolean {
  const body = bodyOf(step);
  return body.transactional && sentWhole(body) && !mayTouchVersionTable(context, body);
}

/**
 * Whether a transactional migration's statements go out with its BEGIN and its COMMIT in one
 * batch: SQL statements without savepoints or other transaction control among them.
 */
function sentWhole(body: MigrationStep): boolean {
  return body.kind === "sql" && !body.statements.some((s) => TRANSACTION_CONTROL.test(s.sql));
}

/**
 * How a migration commits on a dialect that can defer the wait for the disk: `deferred` (a
 * later commit of the run flushes it), `flush` (the run's last, after deferred ones: it waits
 * whatever the migration set), or `own` (as the migration and the session say).
 */
type CommitMode = "deferred" | "flush" | "own";

/** The error for a step whose file has nothing to run in its direction, or null. */
function missingBody(step: PlanStep): MigrationError | null {
  const body = step.direction === "up" ? step.revision.upgrade : step.revision.downgrade;
  if (body) return null;
  return new MigrationError(step, {
    reason: step.revision.upgrade.kind === "sql"
      ? `it has no downgrade (add a '-- migrate:down' section to ${step.revision.filename})`
      : `it has no downgrade (export a downgrade function from ${step.revision.filename})`,
  });
}

/** The error of a `.sql` section whose statements cannot be read (see `LazySqlStep`). */
function unreadableBody(step: PlanStep): MigrationError | null {
  const body = bodyOf(step);
  if (body.kind !== "sql") return null;
  try {
    void body.statements;
    return null;
  } catch (error) {
    return new MigrationError(step, { reason: describeFailure(error), cause: error });
  }
}

function bodyOf(step: PlanStep): MigrationStep {
  const missing = missingBody(step);
  if (missing) throw missing;
  return (step.direction === "up" ? step.revision.upgrade : step.revision.downgrade)!;
}

function describeFailure(error: unknown): string {
  if (error instanceof DatabaseError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Open the shadow database of a SQLite dry run: an in-memory copy of the real database's
 * schema when there is one, else an empty database (the caller replays the chain into it).
 */
export async function openShadow(
  dialect: DialectName,
  connection: Connection | null,
): Promise<Connection | null> {
  if (dialect !== "sqlite") return null;
  const shadow = openSqlite(":memory:", { displayUrl: "sqlite::memory: (dry-run shadow)" });
  // As in a real run: foreign keys off for the whole run, checked per migration.
  await sessionDialect(dialect).prepareRun(shadow);
  if (connection) {
    const script = await sessionDialect(dialect).schemaScript(connection);
    if (script) await shadow.executeScript(script);
  }
  return shadow;
}

/**
 * Execute the steps of a plan in order. Returns one result per step; on the first failure,
 * throws a {@link MigrationError} carrying the results so far (later steps: not run).
 */
export async function executePlan(
  context: RunContext,
  steps: readonly PlanStep[],
  shadow: Connection | null,
): Promise<StepResult[]> {
  const onEvent = context.onEvent;
  if (!onEvent) return await runPlan(context, steps, shadow);
  // A caller's handler that throws must not cut the run short with a migration still in
  // flight (its locks would be let go before it commits): the run goes on, and the handler's
  // error is reported once it is over.
  let thrown: { error: unknown } | null = null;
  const guarded = (event: RunEvent) => {
    try {
      onEvent(event);
    } catch (error) {
      thrown ??= { error };
    }
  };
  const results = await runPlan({ ...context, onEvent: guarded }, steps, shadow);
  if (thrown) {
    const { error } = thrown;
    throw new Error(
      `an onEvent handler threw during the run, which completed: ${describeFailure(error)}`,
      { cause: error },
    );
  }
  return results;
}

async function runPlan(
  context: RunContext,
  steps: readonly PlanStep[],
  shadow: Connection | null,
): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const session = sessionDialect(context.dialect);
  const print = (text: string) => context.onEvent?.({ type: "sql", text });
  // A step with nothing to run (a downgrade of a file without one) fails the plan before the
  // first step: the database is not left half way down.
  // So does a `.sql` section that cannot run (its statements are read here, not half way).
  for (const [i, step] of steps.entries()) {
    const failure = missingBody(step) ?? unreadableBody(step);
    if (!failure) continue;
    failure.results = steps.map((s, j) =>
      j === i ? resultOf(s, "failed", 0, failure.message) : resultOf(s, "not run", 0)
    );
    throw failure;
  }
  let prepared: PreparedRun | null = null;
  if (!context.dryRun && context.connection && steps.length > 0) {
    // Migrations run on this session from here: it must not be quietly replaced.
    context.connection.pin?.();
    prepared = await session.prepareRun(context.connection);
  }
  if (context.dryRun && steps.length > 0) {
    for (const statement of session.runStatements.before) print(`${statement};`);
  }
  const defer = session.flushSettings !== undefined && !context.flushEachCommit;
  /** The log row of the last commit that did not wait for the disk, until one that did. */
  let unflushed: LogEntry | null = null;
  // PostgreSQL: a migration is sent while the one ahead of it is still being answered, and
  // runs only if that one committed (see PipelineChecks); the server never waits for us.
  const pipeline = context.dryRun ? undefined : session.pipeline;
  const runToken = Math.random().toString(36).slice(2, 10);
  // Migrations timed by the server are logged on the client's clock, like every other row.
  const clockOffsetMs = !context.dryRun && context.connection && session.clockOffset &&
      steps.some(sentWholeStep)
    ? await session.clockOffset(context.connection)
    : 0;
  let inflight: InFlight | null = null;
  let lastDone = performance.now();
  const applied = (step: PlanStep, committed: Committed | null, durationMs: number) => {
    if (committed) unflushed = committed.deferred ? committed.log : null;
    results.push(resultOf(step, "applied", durationMs));
    if (!context.dryRun) context.onEvent?.({ type: "step", step, durationMs });
  };
  /** Record the failure of steps[index], settle the one sent behind it, and throw. */
  const failAt = async (
    index: number,
    error: unknown,
    started: number,
    behind: InFlight | null,
  ): Promise<never> => {
    const step = steps[index];
    const failure = error instanceof MigrationError
      ? error
      : new MigrationError(step, { reason: describeFailure(error), cause: error });
    results.push(resultOf(step, "failed", performance.now() - started, failure.message));
    let rest = index + 1;
    if (behind) {
      // Its first check refused it: nothing of it ran (were it to have committed, say so).
      const committed = await behind.completion.catch(() => null);
      if (committed) applied(behind.step, committed, performance.now() - behind.sentAt);
      else results.push(resultOf(behind.step, "not run", 0));
      rest = behind.index + 1;
    }
    for (const later of steps.slice(rest)) results.push(resultOf(later, "not run", 0));
    failure.results = results;
    if (unflushed) await flushDeferred(context, unflushed);
    throw failure;
  };
  /** Wait for the migration in flight; the one sent behind it, if any, fails with it. */
  const settle = async (ahead: InFlight, behind: InFlight | null) => {
    let committed: Committed;
    try {
      committed = await ahead.completion;
    } catch (error) {
      return await failAt(ahead.index, error, ahead.sentAt, behind);
    }
    const done = performance.now();
    // From when the server could start on it: the one ahead may have kept it waiting.
    applied(ahead.step, committed, done - Math.max(ahead.sentAt, lastDone));
    lastDone = done;
  };
  try {
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      // The last commit of a run that deferred others flushes them: it must wait for the disk
      // whatever a migration set for itself or for the session.
      const mode: CommitMode = !defer || steps.length === 1
        ? "own"
        : i < steps.length - 1
        ? "deferred"
        : "flush";
      const pipelined = pipeline !== undefined && canPipeline(context, step);
      if (!pipelined && inflight) {
        const ahead: InFlight = inflight;
        inflight = null;
        await settle(ahead, null);
      }
      if (prepared?.beforeStep) await prepared.beforeStep(keepsLock(step));
      const started = performance.now();
      if (!pipelined) {
        let committed: Committed | null = null;
        try {
          if (context.dryRun) await dryRunStep(context, step, shadow, print, mode);
          else {
            committed = await liveStep(context, step, context.connection!, mode, {
              clockOffsetMs,
            });
          }
        } catch (error) {
          await failAt(i, error, started, null);
        }
        lastDone = performance.now();
        applied(step, committed, lastDone - started);
        continue;
      }
      const next = steps[i + 1];
      const token = next && canPipeline(context, next) ? `${runToken}.${i}` : null;
      let onSent!: () => void;
      const sent = new Promise<void>((resolve) => onSent = resolve);
      const completion = liveStep(context, step, context.connection!, mode, {
        clockOffsetMs,
        after: inflight?.token ?? null,
        token,
        onSent,
      });
      completion.catch(() => {}); // settled below, in order
      // Once it is on its way (or failed before it went), wait for the one ahead of it.
      await Promise.race([sent, completion.then(() => {}, () => {})]);
      const ahead: InFlight | null = inflight;
      inflight = { index: i, step, sentAt: started, token, completion };
      if (ahead) await settle(ahead, inflight);
    }
    if (inflight) {
      const last: InFlight = inflight;
      inflight = null;
      await settle(last, null);
    }
    // Not reached with a deferred commit (the last step's waits), but cheap to be sure of.
    if (unflushed) await flushDeferred(context, unflushed);
  } finally {
    if (prepared) await prepared.restore();
  }
  if (context.dryRun && steps.length > 0) {
    for (const statement of session.runStatements.after) print(`${statement};`);
  }
  return results;
}

function resultOf(
  step: PlanStep,
  status: StepResult["status"],
  durationMs: number,
  error?: string,
): StepResult {
  const result: { -readonly [K in keyof StepResult]: StepResult[K] } = {
    revision: step.revision.revision,
    direction: step.direction,
    path: step.revision.path,
    slug: step.revision.slug,
    timestamp: step.revision.timestamp,
    status,
    durationMs,
  };
  if (error) result.error = error;
  return result;
}

async function dryRunStep(
  context: RunContext,
  step: PlanStep,
  shadow: Connection | null,
  print: (text: string) => void,
  mode: CommitMode,
): Promise<void> {
  const body = bodyOf(step);
  const dialect = getDialect(context.dialect);
  const session = sessionDialect(context.dialect);
  const names = (ids: readonly string[]) => ids.length > 0 ? ids.join(", ") : "base";
  // As Alembic words it: the revision's parents, whatever rows the version table swaps.
  const parents = names(step.revision.downRevisions);
  const arrow = step.direction === "up"
    ? `${parents} -> ${step.revision.revision}`
    : `${step.revision.revision} -> ${parents}`;
  print(
    `-- Running ${
      step.direction === "up" ? "upgrade" : "downgrade"
    } ${arrow} (${step.revision.path})`,
  );
  const executor = new DryRunExecutor(context.dialect, body.transactional, print, shadow);
  const scoped = body.transactional
    ? { set: [], reset: [] }
    : session.sessionSettings(context.timeouts ?? {});
  if (body.transactional) {
    print(`${dialect.beginStatement};`);
    const settings = session.transactionSettings(context.timeouts ?? {});
    if (mode === "deferred" && session.flushSettings) settings.push(session.flushSettings.defer);
    for (const s of settings) print(`${s};`);
  }
  for (const s of scoped.set) print(`${s};`);
  try {
    await runStepBody(step, body, executor);
  } catch (error) {
    throw new MigrationError(step, {
      reason: describeFailure(error),
      statement: executor.current?.sql,
      line: executor.current?.line,
      cause: error,
    });
  }
  for (const s of scoped.reset) print(`${s};`);
  const now = new Date();
  // A non-transactional migration moves the version table in a short transaction of its own.
  if (!body.transactional) print(`${dialect.beginStatement};`);
  if (mode === "flush" && session.flushSettings) print(`${session.flushSettings.flush};`);
  // A script's log rows all carry the time of its making: one clock for every row.
  for (const s of bookkeepingStatements(context, step, logEntryOf(step, now, now))) {
    print(`${s};`);
  }
  print("COMMIT;");
  print("");
}

function logEntryOf(step: PlanStep, startedAt: Date, finishedAt: Date): LogEntry {
  return {
    revision: step.revision.revision,
    direction: step.direction,
    outcome: step.direction === "up" ? "applied" : "unapplied",
    checksum: step.revision.checksum,
    filename: step.revision.filename,
    startedAt,
    finishedAt,
  };
}

/** The version-table change and the `strata_log` row of a step. */
function bookkeepingStatements(
  context: RunContext,
  step: PlanStep,
  log: LogEntry,
  times?: ReturnType<ServerTimesSql>,
): string[] {
  return [
    ...versionChangeStatements(context.versionTable, step.removeVersions, step.addVersions),
    logStatement(context, log, times),
  ];
}

/** strata's own statements (bookkeeping, COMMIT): not the migration's, so not tracked. */
const OWN = new WeakSet<SqlStatement>();
/** A migration's statements the tracker has noted already (see `noteQueuedUnchecked`). */
const NOTED = new WeakSet<SqlStatement>();

/**
 * strata's own statements as one text: one message to the server instead of one each (on
 * PostgreSQL each message costs the driver and the server a round of work). A failure among
 * them fails the rest, so a COMMIT at the end commits only when everything before it ran.
 */
function own(statements: readonly string[]): SqlStatement[] {
  const statement = { sql: statements.join(";\n"), line: null };
  OWN.add(statement);
  return [statement];
}

function violationError(step: PlanStep, violations: readonly string[], partial: boolean) {
  const shown = violations.slice(0, 20);
  const what = partial ? "kept (non-transactional migration)" : "rolled back";
  return new MigrationError(step, {
    reason: `it leaves ${violations.length} foreign-key violation(s), ${what}:\n  ` +
      shown.join("\n  ") + (violations.length > shown.length ? "\n  ..." : ""),
    partial,
  });
}

/**
 * Run one migration and its bookkeeping. Returns its log row and whether its commit left the
 * wait for the disk to a later one.
 */
async function liveStep(
  context: RunContext,
  step: PlanStep,
  connection: Connection,
  mode: CommitMode,
  pipe: PipeOptions = {},
): Promise<Committed> {
  const body = bodyOf(step);
  const begin = getDialect(context.dialect).beginStatement;
  const session = sessionDialect(context.dialect);
  const startedAt = new Date();
  const id = step.revision.revision;
  /** Checks at the head of the commit's text: it commits only in this transaction, locked. */
  const checks = (marked: boolean) => [
    ...(marked && session.transactionMark ? [session.transactionMark.check(id)] : []),
    ...(context.commitGuard ? [context.commitGuard] : []),
    ...(mode === "flush" && session.flushSettings ? [session.flushSettings.flush] : []),
  ];
  // Every statement goes through the executor, so an error names the one that failed.
  const tracker = session.foreignKeyTracker(connection);
  const executor = new LiveExecutor(connection, body.transactional, tracker);
  const newViolations = async () => {
    if (!tracker) return [];
    const added = await tracker.added();
    for (const warning of tracker.warnings) {
      context.onEvent?.({ type: "warning", message: `${step.revision.revision}: ${warning}` });
    }
    if (tracker.preExisting > 0) {
      context.onEvent?.({
        type: "warning",
        message: `${step.revision.revision} touched tables that already had ` +
          `${tracker.preExisting} foreign-key violation(s); they are not blamed on it`,
      });
    }
    return added;
  };
  const fail = (error: unknown, partial: boolean) =>
    new MigrationError(step, {
      reason: describeFailure(error) +
        (partial ? " (non-transactional migration: it may be partly applied)" : ""),
      statement: executor.current?.sql,
      line: executor.current?.line,
      partial,
      cause: error,
    });

  if (!body.transactional) {
    // The lock is checked before the first statement (and again in the version change's
    // transaction); a transactional migration checks it in its commit text.
    if (context.commitGuard) {
      try {
        await connection.execute(context.commitGuard);
      } catch (error) {
        throw lostCheck(step, error) ?? fail(error, false);
      }
    }
    // The migration's timeouts hold for the session while its statements run (there is no
    // transaction to scope them to), and are reset after.
    const scoped = session.sessionSettings(context.timeouts ?? {});
    /** Record the migration as partly applied, so the next run says so before anything. */
    const logPartial = async (detail: string) => {
      // A failure inside a transaction the migration opened itself leaves it aborted, where
      // nothing else can run: end it first (outside one, ROLLBACK only warns or errs).
      await connection.execute("ROLLBACK").catch(() => {});
      await connection.execute(logStatement(context, {
        ...logEntryOf(step, startedAt, new Date()),
        outcome: "partial",
        detail,
      })).catch(() => {});
    };
    try {
      for (const statement of scoped.set) await connection.execute(statement);
    } catch (error) {
      throw fail(error, false);
    }
    try {
      await runStepBody(step, body, executor);
      const violations = await newViolations();
      if (violations.length > 0) throw violationError(step, violations, true);
      await checkVersionRows(context, step, body, executor);
    } catch (error) {
      const failure = error instanceof MigrationError ? error : fail(error, true);
      await logPartial(`failed at: ${oneLine(failure.statement ?? "")}: ${describeFailure(error)}`);
      throw failure;
    } finally {
      for (const statement of scoped.reset) await connection.execute(statement).catch(() => {});
    }
    // The version table moves only after the last statement succeeded, in a short
    // transaction of its own.
    const log = logEntryOf(step, startedAt, new Date());
    try {
      await executor.flush(own([
        begin,
        ...checks(false),
        ...bookkeepingStatements(context, step, log),
        "COMMIT",
      ]));
    } catch (error) {
      await logPartial(`all statements ran; the version change failed: ${describeFailure(error)}`);
      throw lostCheck(step, error, true) ?? fail(error, true);
    }
    return { log, deferred: false };
  }

  // BEGIN and the settings go out with the migration's first statement; a migration of SQL
  // statements goes out whole with its version change and COMMIT (see runStepBody).
  executor.defer(own([
    begin,
    ...session.transactionSettings(context.timeouts ?? {}),
    ...(mode === "deferred" && session.flushSettings ? [session.flushSettings.defer] : []),
    ...(session.transactionMark ? [session.transactionMark.set(id)] : []),
    ...(pipe.after && session.pipeline ? [session.pipeline.after(pipe.after)] : []),
  ]));
  try {
    await runStepBody(step, body, executor);
    if (tracker) {
      // A migration that only creates tables and indexes can leave no violation (its tables
      // are new and empty): it needs no check. Its statements still run before its log row
      // is written, so the row's finish time and duration cover them.
      const unchecked = executor.noteQueuedUnchecked();
      await executor.flush();
      if (!unchecked) {
        const violations = await newViolations();
        if (violations.length > 0) throw violationError(step, violations, false);
      }
    }
    await checkVersionRows(context, step, body, executor);
    const log = logEntryOf(step, startedAt, new Date());
    // Sent before the statements have run (and maybe before the migration ahead finished)
    // when the migration goes out whole: the server times it.
    const times = sentWhole(body) ? session.serverTimes?.(pipe.clockOffsetMs ?? 0) : undefined;
    await executor.flush([
      // One text: if a check fails, the server skips the version change with it.
      ...own([
        ...checks(true),
        ...bookkeepingStatements(context, step, log, times),
        ...(pipe.token && session.pipeline ? [session.pipeline.committed(pipe.token)] : []),
      ]),
      // Its own message, so that a failure at commit (a deferred constraint) is named so.
      ...own(["COMMIT"]),
    ], pipe.onSent);
    return { log, deferred: mode === "deferred" };
  } catch (error) {
    await connection.execute("ROLLBACK").catch(() => {});
    throw lostCheck(step, error) ??
      (error instanceof MigrationError ? error : fail(error, false));
  }
}

/**
 * The error of a migration stopped by a check before its commit: the run's lock is gone, or
 * the statements were not in the migration's transaction. Null for other errors.
 */
function lostCheck(
  step: PlanStep,
  error: unknown,
  statementsCommitted = false,
): MigrationError | null {
  const message = describeFailure(error);
  const outcome = statementsCommitted
    ? "its statements ran and were committed (non-transactional migration), its version change " +
      "was not; stopping"
    : "not committed, stopping";
  if (message.includes(LOCK_LOST)) {
    return new MigrationError(step, {
      reason: "lost the PostgreSQL advisory lock: the server ended the session holding it " +
        `(idle timeout, pg_terminate_backend, a dropped connection), so another run may have ` +
        `started; ${outcome}`,
      partial: statementsCommitted,
      cause: error,
    });
  }
  if (message.includes(TRANSACTION_LOST)) {
    return new MigrationError(step, {
      reason: "its statements did not all run in its transaction (the session was replaced, or " +
        `a statement ended the transaction or reset the session); ${outcome}`,
      partial: statementsCommitted,
      cause: error,
    });
  }
  return null;
}

/** Names in the errors of the checks before a commit (see lib/dialect/session.ts). */
const LOCK_LOST = "strata.advisory_lock_lost";
const TRANSACTION_LOST = "strata.transaction_lost";

/**
 * After a failure, make the run's deferred commits durable: a synchronous commit flushes the
 * write-ahead log up to itself, so rewriting the last deferred migration's own log row (to
 * the values it has) flushes every commit before it. Any run may write that row.
 */
async function flushDeferred(context: RunContext, log: LogEntry): Promise<void> {
  const flush = sessionDialect(context.dialect).flushSettings?.flush;
  if (!context.connection || !flush) return;
  // A failure may have left the session in an aborted transaction, where BEGIN is refused.
  await context.connection.execute("ROLLBACK").catch(() => {});
  try {
    // The row (and, rarely, an older one of the same process id): its times may be the
    // server's, so it is found by what the client knows.
    await context.connection.execute([
      getDialect(context.dialect).beginStatement,
      flush,
      `UPDATE ${LOG_TABLE} SET duration_ms = duration_ms WHERE revision = ${
        quoteLiteral(log.revision)
      } AND direction = ${quoteLiteral(log.direction)} AND host = ${
        quoteLiteral(logOrigin().host)
      } AND pid = ${logOrigin().pid}`,
      "COMMIT",
    ].join(";\n"));
  } catch (error) {
    context.onEvent?.({
      type: "warning",
      message: "could not make sure that the migrations this run committed before the failure " +
        `reached the disk (${describeFailure(error)}): if the server crashes before it flushes ` +
        "them (within a second, normally), the last of them are undone; `strata current` tells",
    });
  }
}

/**
 * Before the version change of a migration that may have touched the version table (a
 * TypeScript one, or SQL naming the table): the rows the step replaces must be there and the
 * rows it adds must not, or the version change would silently do nothing (Alembic raises
 * "expected to match one row" here). Other migrations cannot have touched it: no query.
 */
async function checkVersionRows(
  context: RunContext,
  step: PlanStep,
  body: MigrationStep,
  executor: LiveExecutor,
): Promise<void> {
  if (!mayTouchVersionTable(context, body)) return;
  const rows = new Set(
    (await executor.query<{ version_num: string }>(
      `SELECT version_num FROM ${quoteIdent(context.versionTable)}`,
    )).map((r) => r.version_num),
  );
  const missing = step.removeVersions.filter((v) => !rows.has(v));
  const present = step.addVersions.filter((v) => rows.has(v));
  if (missing.length === 0 && present.length === 0) return;
  throw new MigrationError(step, {
    reason: `it changed the version table ${context.versionTable} itself (${
      missing.length > 0
        ? `rows ${missing.join(", ")} are gone`
        : `rows ${present.join(", ")} are there already`
    }); a migration must leave it to strata`,
  });
}

/** A TypeScript migration, or SQL naming the version table. */
function mayTouchVersionTable(context: RunContext, body: MigrationStep): boolean {
  const table = context.versionTable.toLowerCase();
  return body.kind === "function" ||
    body.statements.some((s) => s.sql.toLowerCase().includes(table));
}

/** Record a stamp in the log (inside the caller's transaction). */
export function stampLogStatements(
  context: RunContext,
  revisions: readonly Revision[],
): string[] {
  const now = new Date();
  return revisions.map((r) =>
    logStatement(context, {
      revision: r.revision,
      direction: "stamp",
      outcome: "stamped",
      checksum: r.checksum,
      filename: r.filename,
      startedAt: now,
      finishedAt: now,
    })
  );
}
