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

/** How long a statement waits for another writer before failing with SQLITE_BUSY. */
const DEFAULT_BUSY_TIMEOUT_MS = 30_000;

/** Open a SQLite database file (or `:memory:`). */
export function openSqlite(
  file: string,
  options: { displayUrl?: string; busyTimeoutMs?: number; readOnly?: boolean } = {},
): Connection {
  const createdFile = file !== "" && file !== ":memory:" && !options.readOnly &&
    !fs.existsSync(file);
  const db = new DatabaseSync(
    file,
    {
      readOnly: options.readOnly ?? false,
      timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    } as ConstructorParameters<typeof DatabaseSync>[1],
  );
  return new SqliteConnection(db, options.displayUrl ?? `sqlite:${file}`, createdFile);
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
  constructor(db: DatabaseSync, displayUrl: string, createdFile: boolean) {
    this.#db = db;
    this.displayUrl = displayUrl;
    this.createdFile = createdFile;
  }

  execute(sql: string, params: readonly unknown[] = []): Promise<void> {
    try {
      if (params.length === 0) this.#db.exec(sql);
      else this.#db.prepare(toSqliteParams(sql)).run(...params.map(toSqliteValue));
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(wrapError(error, sql));
    }
  }

  query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    try {
      const rows = this.#db.prepare(toSqliteParams(sql)).all(...params.map(toSqliteValue));
      return Promise.resolve(rows as T[]);
    } catch (error) {
      return Promise.reject(wrapError(error, sql));
    }
  }

  executeBatch(statements: readonly string[], onSent?: () => void): Promise<void> {
    // In process and synchronous: each statement has run before the next is looked at.
    onSent?.();
    for (let i = 0; i < statements.length; i++) {
      try {
        this.#db.exec(statements[i]);
      } catch (error) {
        const failure = wrapError(error, statements[i]);
        failure.batchIndex = i;
        return Promise.reject(failure);
      }
    }
    return Promise.resolve();
  }

  executeScript(sql: string): Promise<void> {
    try {
      this.#db.exec(sql);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(wrapError(error, sql));
    }
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
