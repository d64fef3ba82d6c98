/**
 * Open a connection for a database URL.
 *
 * @module
 */

import * as fs from "node:fs";
import { type Connection, DatabaseError } from "./connection.ts";
import { openPostgres } from "./postgres.ts";
import { openSqlite } from "./sqlite.ts";
import { type DatabaseTarget, parseDatabaseUrl, redactUrl, UrlError } from "./url.ts";
import { isDirectory, path } from "../runtime.ts";

/**
 * Open a connection for a database URL (`sqlite:path.db`, `postgresql://...`), for example to
 * hand to `autogenerate`, `compare` or `dumpSchema`. PostgreSQL connects on the first
 * statement; a SQLite file in a missing directory is an error, not a new directory.
 *
 * @param url The database URL.
 * @param target The parsed URL, when the caller has it already.
 * @returns One database session; close it when done.
 *
 * @example
 * ```ts
 * import { openConnection } from "./open.ts";
 * const connection = openConnection("sqlite::memory:");
 * await connection.query("SELECT 1 AS one");
 * await connection.close();
 * ```
 */
export function openConnection(
  url: string,
  target: DatabaseTarget = parseDatabaseUrl(url),
): Connection {
  return openTarget(target, redactUrl(url));
}

/**
 * Open a database only to read it: a SQLite file that does not exist is an error (opening it
 * would create it, and a mistyped path would read as an empty database), and an existing one
 * is opened read-only. `purpose`, when given, starts the error (`Cannot dump the schema of`).
 */
export function openExisting(url: string, purpose?: string): Connection {
  const target = parseDatabaseUrl(url);
  if (target.dialect === "postgresql" || target.memory) return openConnection(url, target);
  if (!fs.existsSync(target.path)) {
    throw new UrlError(
      purpose
        ? `${purpose} ${redactUrl(url)}: the file does not exist`
        : `the file ${target.path} does not exist`,
    );
  }
  return openSqlite(target.path, { readOnly: true, displayUrl: redactUrl(url) });
}

function openTarget(target: DatabaseTarget, displayUrl: string): Connection {
  if (target.dialect === "postgresql") return openPostgres(target.url);
  if (!target.memory) {
    const dir = path.dirname(path.resolve(target.path));
    if (!isDirectory(dir)) {
      throw new UrlError(
        `Cannot open SQLite database ${target.path}: directory ${dir} does not exist`,
      );
    }
  }
  return openSqlite(target.path, { displayUrl });
}

/**
 * An error from the first statement on a new connection (strata's own `SELECT 1` probe) as a
 * connection error: it names the database, redacted, and shows no statement. Errors that
 * already say so, and those that are not the database's, are returned as they are.
 */
export function connectionError(error: unknown, url: string): unknown {
  if (!(error instanceof DatabaseError) || error.statement === "") return error;
  return new DatabaseError(
    `Cannot connect to ${redactUrl(url)}: ${error.message}`,
    "",
    error.code,
    { cause: error },
  );
}
