/**
 * SQLite connections on the runtime's built-in `node:sqlite` (no native download, so the
 * compiled binary stays one file).
 *
 * @module
 */

import * as fs from "node:fs";
import { DatabaseSync } from "node:sqlite";
import type { Row } from "../ops/executor.ts";
import { type Connection, DatabaseError } from "./connection.ts";
import { UrlError } from "./url.ts";

function isDirectory(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/** How long a statement waits for another writer before failing with SQLITE_BUSY. */
const DEFAULT_BUSY_TIMEOUT_MS = 30_000;

/** Open a SQLite database file (or `:memory:`). */
export function openSqlite(
  file: string,
  options: { displayUrl?: string; busyTimeoutMs?: number; readOnly?: boolean } = {},
): Connection {
  const createdFile = file !== "" && file !== ":memory:" && !options.readOnly &&
    !fs.existsSync(file);
  const displayUrl = options.displayUrl ?? `sqlite:${file}`;
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(
      file,
      {
        readOnly: options.readOnly ?? false,
        timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
      } as ConstructorParameters<typeof DatabaseSync>[1],
    );
  } catch (error) {
    // SQLite says "unable to open database file" or "disk I/O error" for a directory.
    if (isDirectory(file)) {
      throw new UrlError(`Cannot open SQLite database ${file}: it is a directory, not a file`);
    }
    // No statement ran: name the file instead.
    throw openError(error, displayUrl);
  }
  return new SqliteConnection(db, displayUrl, createdFile);
}

/** SQLITE_NOTADB: the file is not a database, found by the first statement that reads it. */
const SQLITE_NOTADB = 26;

function isNotADatabase(error: unknown): boolean {
  const e = error as { message?: unknown; errcode?: unknown };
  // Deno's `exec` leaves out the code: the message is SQLite's text.
  return e.errcode === SQLITE_NOTADB || String(e.message ?? "") === "file is not a database";
}

function openError(error: unknown, displayUrl: string): DatabaseError {
  const e = error as { message?: string; code?: string; errstr?: string };
  return new DatabaseError(
    `Cannot open ${displayUrl}: ${String(e.message ?? error)}`,
    "",
    e.errstr ?? e.code,
    { cause: error },
  );
}

/**
 * Rewrite `$1` parameters for SQLite, leaving quoted text alone: to plain `?` when they appear
 * once each in order (binding numbered `?NNN` parameters costs time quadratic in their count),
 * else to numbered `?NNN`.
 */
export function toSqliteParams(sql: string): string {
  if (!sql.includes("$")) return sql;
  const pattern = /('(?:[^']|'')*')|("(?:[^"]|"")*")|\$(\d+)/g;
  let expected = 1;
  let inOrder = true;
  for (const match of sql.matchAll(pattern)) {
    if (match[3] === undefined) continue;
    if (Number(match[3]) !== expected++) {
      inOrder = false;
      break;
    }
  }
  return sql.replace(
    pattern,
    (match, single, double, n) => (single || double) ? match : inOrder ? "?" : `?${n}`,
  );
}

// deno-lint-ignore no-explicit-any
type SqliteValue = any;

function toSqliteValue(value: unknown): SqliteValue {
  if (value === undefined) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
    return JSON.stringify(value);
  }
  return value;
}

class SqliteConnection implements Connection {
  readonly dialect = "sqlite" as const;
  readonly #db: DatabaseSync;
  readonly displayUrl: string;
  readonly createdFile: boolean;
  /** A statement has succeeded: the file is a database. */
  #opened = false;
  constructor(db: DatabaseSync, displayUrl: string, createdFile: boolean) {
    this.#db = db;
    this.displayUrl = displayUrl;
    this.createdFile = createdFile;
  }

  execute(sql: string, params: readonly unknown[] = []): Promise<void> {
    try {
      if (params.length === 0) this.#db.exec(sql);
      else this.#db.prepare(toSqliteParams(sql)).run(...params.map(toSqliteValue));
      this.#opened = true;
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(this.#wrapError(error, sql));
    }
  }

  query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    try {
      const rows = this.#db.prepare(toSqliteParams(sql)).all(...params.map(toSqliteValue));
      this.#opened = true;
      return Promise.resolve(rows as T[]);
    } catch (error) {
      return Promise.reject(this.#wrapError(error, sql));
    }
  }

  executeBatch(statements: readonly string[], onSent?: () => void): Promise<void> {
    // In process and synchronous: each statement has run before the next is looked at.
    onSent?.();
    for (let i = 0; i < statements.length; i++) {
      try {
        this.#db.exec(statements[i]);
        this.#opened = true;
      } catch (error) {
        const failure = this.#wrapError(error, statements[i]);
        failure.batchIndex = i;
        return Promise.reject(failure);
      }
    }
    return Promise.resolve();
  }

  executeScript(sql: string): Promise<void> {
    try {
      this.#db.exec(sql);
      this.#opened = true;
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(this.#wrapError(error, sql));
    }
  }

  #wrapError(error: unknown, sql: string): DatabaseError {
    // The first statement found that the file is not a database: no statement is to blame.
    if (!this.#opened && isNotADatabase(error)) return openError(error, this.displayUrl);
    return wrapError(error, sql);
  }

  close(): Promise<void> {
    try {
      this.#db.close();
    } catch {
      // Already closed.
    }
    return Promise.resolve();
  }
}

function wrapError(error: unknown, sql: string): DatabaseError {
  const e = error as { message?: string; code?: string; errstr?: string };
  return new DatabaseError(String(e.message ?? error), sql, e.errstr ?? e.code, { cause: error });
}
