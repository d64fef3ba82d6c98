/**
 * Locks against concurrent runs, in three layers, taken in this order and released in reverse:
 *
 * 1. an in-process mutex, so library calls from one process never interleave;
 * 2. an exclusive lockfile beside the SQLite file (or at `--lock-file`), holding pid, host,
 *    command and start time, created atomically with its content (written to a temporary file
 *    and hard-linked into place, so nobody ever reads it empty); a stale one (its pid dead on
 *    this host, or alive but a different process: a reused pid, a container restarted as pid 1)
 *    is reclaimed with a warning under a reclaim guard, so two waiters never both reclaim; a
 *    live one is waited for up to the lock timeout and then reported with its holder;
 * 3. on PostgreSQL, a session advisory lock taken with `pg_try_advisory_lock`, polled with
 *    backoff (a blocking `pg_advisory_lock` would deadlock with `CREATE INDEX CONCURRENTLY`,
 *    which waits for every other transaction, including one queued behind the lock), on a key
 *    derived from the database and the version table's schema (where it is, not the session's
 *    current schema, which a migration may change) and name, held on its own session, which
 *    never times out idle and is checked before each migration.
 *
 * @module
 */

import * as fs from "node:fs";
import type { Connection } from "../db/connection.ts";
import { quoteIdent, quoteLiteral } from "../dialect/quote.ts";
import {
  createExclusive,
  hostname,
  isProcessAlive,
  pid,
  readTextFileIfExists,
  removeFile,
  sleep,
} from "../runtime.ts";

/** Another run holds the lock and did not let go within the timeout. */
export class LockTimeoutError extends Error {
  /** Who holds it, as far as strata can tell. */
  readonly holder: string;
  /**
   * Reports a lock that was not released in time.
   *
   * @param what The lock, as the message names it (`the lock <file>`, `the PostgreSQL advisory lock`).
   * @param holder Who holds it, as far as strata can tell.
   * @param timeoutMs How long strata waited, in milliseconds.
   */
  constructor(what: string, holder: string, timeoutMs: number, hint = "") {
    super(
      // Tenths: a wait that began a moment after the run's start shows as the timeout given.
      `Cannot acquire ${what} within ${Math.round(timeoutMs / 100) / 10} s: held by ${holder}` +
        ` (wait for it to finish, or raise --lock-timeout${hint})`,
    );
    this.name = "LockTimeoutError";
    this.holder = holder;
  }
}

/** What a lockfile says about its holder. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  readonly startedAt: string;
  /** Linux: boot id and the process's start time since boot, to tell a reused pid. */
  readonly processStart?: string;
}

/** A held lock; `release` is idempotent. */
export interface Lock {
  release(): Promise<void>;
  /**
   * A statement for the run's own connection that fails when the lock has been lost (a
   * PostgreSQL lock session the server ended): sent inside each migration's transaction, it
   * costs no round trip, and a migration commits only while the lock is held.
   */
  readonly guard?: string;
}

const mutexTails = new Map<string, Promise<void>>();

/** Take the in-process mutex for a key (one database), waiting at most `timeoutMs`. */
export async function acquireMutex(key: string, timeoutMs = Infinity): Promise<Lock> {
  const previous = mutexTails.get(key) ?? Promise.resolve();
  let releaseNext!: () => void;
  const next = new Promise<void>((resolve) => releaseNext = resolve);
  const tail = previous.then(() => next);
  mutexTails.set(key, tail);
  if (Number.isFinite(timeoutMs)) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      previous.then(() => false),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(true), timeoutMs)),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      // Leave the queue: those behind us go on when the holder lets go.
      previous.then(() => {
        releaseNext();
        if (mutexTails.get(key) === tail) mutexTails.delete(key);
      });
      throw new LockTimeoutError("the in-process lock", "another call in this process", timeoutMs);
    }
  } else await previous;
  let released = false;
  return {
    release: () => {
      if (!released) {
        released = true;
        releaseNext();
        if (mutexTails.get(key) === tail) mutexTails.delete(key);
      }
      return Promise.resolve();
    },
  };
}

function describeHolder(holder: LockHolder | null, file: string): string {
  if (!holder) return `an unreadable lockfile ${file}`;
  return `pid ${holder.pid} on ${holder.host} (${holder.command}, since ${holder.startedAt}; ` +
    `lockfile ${file})`;
}

function parseHolder(text: string): LockHolder | null {
  try {
    const holder = JSON.parse(text) as LockHolder;
    return typeof holder?.pid === "number" ? holder : null;
  } catch {
    return null; // damaged, or written by something else
  }
}

/** Backoff delays for polling a lock: 25 ms doubling to 500 ms. */
function nextDelay(delay: number): number {
  return Math.min(delay * 2, 500);
}

/** Lockfiles this process holds, with the text it wrote into each. */
const heldFiles = new Map<string, string>();

/** Linux: `<boot id>:<start time in clock ticks>` of a process, or null where unknown. */
function processStart(processId: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${processId}/stat`, "utf8");
    // Fields after the command name (in parentheses, which may hold spaces); starttime is the
    // 22nd field, the 20th after the name.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const boot = fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    return fields[19] ? `${boot}:${fields[19]}` : null;
  } catch {
    return null;
  }
}

/** Whether a holder on this host is gone (the file is then stale). Other hosts: never. */
function isStale(holder: LockHolder, file: string): boolean {
  if (holder.host !== hostname()) return false;
  // Our own pid: this process, if it holds the file; else an earlier process that had the
  // same pid (a container restarted as pid 1 after a crash).
  if (holder.pid === pid()) return !heldFiles.has(file);
  if (!isProcessAlive(holder.pid)) return true;
  if (holder.processStart) {
    const now = processStart(holder.pid);
    if (now !== null && now !== holder.processStart) return true; // the pid was reused
  }
  return false;
}

/**
 * Create the lockfile with its content in one step: written to a temporary file and
 * hard-linked into place (fails if the lockfile exists). Filesystems without hard links fall
 * back to an exclusive create and a write.
 */
function createLockfile(file: string, text: string): boolean {
  const temp = `${file}.${pid()}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    fs.writeFileSync(temp, text, { mode: 0o644 });
  } catch (error) {
    throw lockfileError(file, error);
  }
  try {
    fs.linkSync(temp, file);
    return true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "EEXIST") return false;
    if (code === "EPERM" || code === "ENOTSUP" || code === "ENOSYS" || code === "EXDEV") {
      return createExclusive(file, text);
    }
    throw lockfileError(file, error);
  } finally {
    removeFile(temp);
  }
}

function lockfileError(file: string, error: unknown): Error {
  const code = (error as { code?: string }).code ?? "";
  const why = code === "EACCES" || code === "EPERM" || code === "EROFS"
    ? "the directory is not writable (SQLite needs it writable for its journal too)"
    : String((error as Error)?.message ?? error);
  return new Error(`Cannot create the lockfile ${file}: ${why}`, { cause: error });
}

/**
 * Remove a lockfile judged stale, if it still holds exactly the text judged. Under a reclaim
 * guard (itself an exclusive file) no other waiter removes the lockfile meanwhile and its dead
 * holder cannot, so the check and the removal cannot be split by a new holder. A guard left by
 * a crash in these few lines is removed after ten seconds.
 */
function reclaim(file: string, judged: string): boolean {
  const guard = `${file}.reclaim`;
  if (!createExclusive(guard, `${pid()}\n`)) {
    try {
      if (Date.now() - fs.statSync(guard).mtimeMs > 10_000) removeFile(guard);
    } catch {
      // Gone already.
    }
    return false;
  }
  try {
    if (readTextFileIfExists(file) !== judged) return false;
    removeFile(file);
    return true;
  } finally {
    removeFile(guard);
  }
}

/**
 * Take the lockfile. `onWarning` hears about a reclaimed stale lock and about waiting.
 */
export async function acquireLockfile(
  file: string,
  options: { command: string; timeoutMs: number; onWarning?: (message: string) => void },
): Promise<Lock> {
  const started = processStart(pid());
  const me: LockHolder = {
    pid: pid(),
    host: hostname(),
    command: options.command,
    startedAt: new Date().toISOString(),
    ...(started ? { processStart: started } : {}),
  };
  const text = JSON.stringify(me) + "\n";
  const deadline = Date.now() + options.timeoutMs;
  let delay = 25;
  let announced = false;
  /** A lockfile that does not parse: its text, and since when it has been there unchanged. */
  const unreadable: { text: string | null; since: number } = { text: null, since: 0 };
  for (;;) {
    if (createLockfile(file, text)) break;
    const current = readTextFileIfExists(file);
    if (current === null) continue; // released between our two calls
    const holder = parseHolder(current);
    if (holder) {
      unreadable.text = null;
      if (isStale(holder, file)) {
        if (reclaim(file, current)) {
          options.onWarning?.(
            `reclaimed a stale lock left by pid ${holder.pid} (${holder.command}, since ${holder.startedAt})`,
          );
        } else await sleep(10);
        continue;
      }
    } else if (unreadable.text !== current) {
      unreadable.text = current;
      unreadable.since = Date.now();
    } else if (Date.now() - unreadable.since > 2_000) {
      // Not a lockfile strata writes (it writes them whole): damaged, long enough to tell.
      if (reclaim(file, current)) options.onWarning?.(`reclaimed an unreadable lockfile ${file}`);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new LockTimeoutError(
        `the lock ${file}`,
        describeHolder(holder, file),
        options.timeoutMs,
        `; if no strata run is active there (killed, or on another host), delete ${file}`,
      );
    }
    if (!announced && holder) {
      announced = true;
      options.onWarning?.(`waiting for the lock held by ${describeHolder(holder, file)}`);
    }
    await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
    delay = nextDelay(delay);
  }
  heldFiles.set(file, text);
  let released = false;
  return {
    release: () => {
      if (released) return Promise.resolve();
      released = true;
      releaseLockfile(file);
      return Promise.resolve();
    },
  };
}

/** Remove a lockfile this process holds, if it is still ours. */
function releaseLockfile(file: string): void {
  const text = heldFiles.get(file);
  heldFiles.delete(file);
  if (text !== undefined && readTextFileIfExists(file) === text) removeFile(file);
}

/**
 * Remove every lockfile this process holds (for a signal handler: the process is about to
 * exit, and its open transactions die with it).
 */
export function releaseHeldLockfiles(): void {
  for (const file of [...heldFiles.keys()]) {
    try {
      releaseLockfile(file);
    } catch {
      // Best effort on the way out.
    }
  }
}

/**
 * Take a PostgreSQL session advisory lock on `session` (a connection used for nothing else),
 * polling `pg_try_advisory_lock` with backoff.
 */
export async function acquireAdvisoryLock(
  session: Connection,
  options: { versionTable: string; timeoutMs: number; onWarning?: (message: string) => void },
): Promise<Lock> {
  // The lock must outlive idle stretches (a long migration on the other connection); set
  // while waiting too, and again once locked (a session reopened while waiting lacks it).
  // (Before PostgreSQL 14 there is no such setting: the error is ignored.)
  const noIdleTimeout = () => session.execute("SET idle_session_timeout = 0").catch(() => {});
  await noIdleTimeout();
  // The schema the version table is in, or will be created in: not simply the current
  // schema, which a migration can change for later sessions (a schema named after the user).
  // Literal values, not parameters: each parameterised query would cost a round trip more.
  const table = quoteLiteral(quoteIdent(options.versionTable));
  const [{ key }] = await session.query<{ key: string }>(
    "SELECT hashtextextended(concat_ws(chr(1), 'strata', current_database(), " +
      "coalesce((SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
      `WHERE c.oid = to_regclass(${table})), current_schema()), ` +
      `${quoteLiteral(options.versionTable)}), 0)::text AS key`,
  );
  if (!/^-?\d+$/.test(key)) throw new Error(`Cannot derive an advisory lock key: got ${key}`);
  const deadline = Date.now() + options.timeoutMs;
  let delay = 25;
  let announced = false;
  let pid: number;
  let endedInARow = 0;
  for (;;) {
    let row: { locked: boolean; pid: number };
    try {
      [row] = await session.query<{ locked: boolean; pid: number }>(
        `SELECT pg_try_advisory_lock(${key}) AS locked, pg_backend_pid() AS pid`,
      );
      endedInARow = 0;
    } catch (error) {
      // The server or the network ended the session during a poll (an idle timeout,
      // pg_terminate_backend): it held nothing yet (a lock taken as it died went with it), and
      // the driver opens another for the next query. One that keeps ending is an error.
      if (!sessionEnded(error) || ++endedInARow > 3 || Date.now() >= deadline) throw error;
      await sleep(delay);
      continue;
    }
    if (row.locked) {
      pid = Number(row.pid);
      // The lock lives as long as this session: it must not be quietly replaced.
      session.pin?.();
      await noIdleTimeout();
      break;
    }
    const holder = await describeAdvisoryHolder(session, key);
    if (Date.now() >= deadline) {
      throw new LockTimeoutError("the PostgreSQL advisory lock", holder, options.timeoutMs);
    }
    if (!announced) {
      announced = true;
      options.onWarning?.(`waiting for the PostgreSQL advisory lock held by ${holder}`);
    }
    await sleep(delay);
    delay = nextDelay(delay);
  }
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await session.query(`SELECT pg_advisory_unlock(${key})`);
    },
    // The session that took the lock still holds it; a session the server ended (and the
    // driver reconnected) has another pid and no lock. current_setting() of a setting that
    // does not exist raises the error; it is evaluated only when the lock is gone.
    guard: "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' " +
      `AND granted AND pid = ${pid} AND ((classid::bigint << 32) | objid::bigint) = ${key}) ` +
      "THEN NULL ELSE current_setting('strata.advisory_lock_lost') END AS lock_held",
  };
}

/**
 * Error codes of a session that ended under a query: the driver's (porsager/postgres), the
 * socket's, and the server's (57P01 terminated by an administrator, 57P02 crash shutdown,
 * 57P05 idle session timeout; 08xxx connection exceptions).
 */
const SESSION_ENDED = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  // strata's own, for a query the session closed under (lib/db/postgres.ts).
  "CONNECTION_LOST",
  "EPIPE",
  "ECONNRESET",
  "ERR_SOCKET_CLOSED",
  "57P01",
  "57P02",
  "57P05",
  "08003",
  "08006",
]);

function sessionEnded(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && SESSION_ENDED.has(code);
}

async function describeAdvisoryHolder(session: Connection, key: string): Promise<string> {
  try {
    const rows = await session.query<{ pid: number; application_name: string; since: string }>(
      `SELECT a.pid, a.application_name, a.backend_start::text AS since
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted
          AND ((l.classid::bigint << 32) | l.objid::bigint) = ${key}`,
    );
    if (rows.length === 0) return "another session";
    const r = rows[0];
    return `server pid ${r.pid} (${r.application_name || "unknown application"}, since ${r.since})`;
  } catch {
    return "another session";
  }
}
