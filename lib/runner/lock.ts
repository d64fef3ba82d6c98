/**
 * Locks against concurrent runs, in three layers, taken in this order and released in reverse:
 *
 * 1. an in-process mutex, so library calls from one process never interleave;
 * 2. an exclusive lockfile created atomically (`O_EXCL`) beside the SQLite file (or at
 *    `--lock-file`), holding pid, host, command and start time; a stale one (its pid dead on
 *    this host) is reclaimed with a warning, a live one is waited for up to the lock timeout
 *    and then reported with its holder;
 * 3. on PostgreSQL, a session advisory lock taken with `pg_try_advisory_lock`, polled with
 *    backoff (a blocking `pg_advisory_lock` would deadlock with `CREATE INDEX CONCURRENTLY`,
 *    which waits for every other transaction, including one queued behind the lock), on a key
 *    derived from the database, schema and version table, held on its own session.
 *
 * @module
 */

import * as fs from "node:fs";
import type { Connection } from "../db/connection.ts";
import { quoteLiteral } from "../dialect/quote.ts";
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
  constructor(what: string, holder: string, timeoutMs: number) {
    super(
      `Cannot acquire ${what} within ${timeoutMs / 1000} s: held by ${holder}` +
        ` (wait for it to finish, or raise --lock-timeout)`,
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
}

/** A held lock; `release` is idempotent. */
export interface Lock {
  release(): Promise<void>;
}

const mutexTails = new Map<string, Promise<void>>();

/** Take the in-process mutex for a key (one database). */
export async function acquireMutex(key: string): Promise<Lock> {
  const previous = mutexTails.get(key) ?? Promise.resolve();
  let releaseNext!: () => void;
  const next = new Promise<void>((resolve) => releaseNext = resolve);
  const tail = previous.then(() => next);
  mutexTails.set(key, tail);
  await previous;
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

function readHolder(file: string): LockHolder | null | undefined {
  const text = readTextFileIfExists(file);
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as LockHolder;
  } catch {
    return null; // being written, or damaged
  }
}

/** Backoff delays for polling a lock: 25 ms doubling to 500 ms. */
function nextDelay(delay: number): number {
  return Math.min(delay * 2, 500);
}

/**
 * Take the lockfile. `onWarning` hears about a reclaimed stale lock and about waiting.
 */
export async function acquireLockfile(
  file: string,
  options: { command: string; timeoutMs: number; onWarning?: (message: string) => void },
): Promise<Lock> {
  const me: LockHolder = {
    pid: pid(),
    host: hostname(),
    command: options.command,
    startedAt: new Date().toISOString(),
  };
  const text = JSON.stringify(me) + "\n";
  const deadline = Date.now() + options.timeoutMs;
  let delay = 25;
  let announced = false;
  let unreadableSince = 0;
  for (;;) {
    if (createExclusive(file, text)) break;
    const holder = readHolder(file);
    if (holder === undefined) continue; // released between our two calls
    if (holder && holder.host === me.host && !isProcessAlive(holder.pid)) {
      if (reclaimStale(file, holder)) {
        options.onWarning?.(
          `reclaimed a stale lock left by pid ${holder.pid} (${holder.command}, since ${holder.startedAt})`,
        );
      }
      continue;
    }
    if (holder === null) {
      // A lockfile that stays unreadable for a while was left half-written by a crash.
      unreadableSince ||= Date.now();
      if (Date.now() - unreadableSince > 2_000 && reclaimStale(file, null)) {
        options.onWarning?.(`reclaimed an unreadable lockfile ${file}`);
        continue;
      }
    }
    if (Date.now() >= deadline) {
      throw new LockTimeoutError(
        `the lock ${file}`,
        describeHolder(holder, file),
        options.timeoutMs,
      );
    }
    if (!announced && holder) {
      announced = true;
      options.onWarning?.(`waiting for the lock held by ${describeHolder(holder, file)}`);
    }
    await sleep(delay);
    delay = nextDelay(delay);
  }
  let released = false;
  return {
    release: () => {
      if (released) return Promise.resolve();
      released = true;
      // Remove it only if it is still ours.
      const holder = readHolder(file);
      if (holder && holder.pid === me.pid && holder.startedAt === me.startedAt) removeFile(file);
      return Promise.resolve();
    },
  };
}

/**
 * Remove a stale lockfile without removing a live one that replaced it meanwhile: move it
 * aside atomically, check it is the one we judged stale, and put it back if it is not.
 */
function reclaimStale(file: string, stale: LockHolder | null): boolean {
  const aside = `${file}.stale-${pid()}-${Date.now()}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return false; // someone else moved it first
  }
  const moved = readHolder(aside);
  const same = stale === null
    ? moved === null
    : moved != null && moved.pid === stale.pid && moved.startedAt === stale.startedAt;
  if (!same) {
    try {
      fs.linkSync(aside, file); // restore the live lock, unless a new one exists already
    } catch {
      // A newer lockfile exists; the one we moved was released or superseded.
    }
  }
  removeFile(aside);
  return same;
}

/**
 * Take a PostgreSQL session advisory lock on `session` (a connection used for nothing else),
 * polling `pg_try_advisory_lock` with backoff.
 */
export async function acquireAdvisoryLock(
  session: Connection,
  options: { versionTable: string; timeoutMs: number; onWarning?: (message: string) => void },
): Promise<Lock> {
  // Literal values, not parameters: each parameterised query would cost a round trip more.
  const [{ key }] = await session.query<{ key: string }>(
    "SELECT hashtextextended('strata:' || current_database() || ':' || current_schema() || ':' || " +
      `${quoteLiteral(options.versionTable)}, 0)::text AS key`,
  );
  if (!/^-?\d+$/.test(key)) throw new Error(`Cannot derive an advisory lock key: got ${key}`);
  const deadline = Date.now() + options.timeoutMs;
  let delay = 25;
  let announced = false;
  for (;;) {
    const [{ locked }] = await session.query<{ locked: boolean }>(
      `SELECT pg_try_advisory_lock(${key}) AS locked`,
    );
    if (locked) break;
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
  };
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
