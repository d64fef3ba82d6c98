/**
 * Errors to exit codes and to the lines printed after `error:`.
 *
 * 0 success; 1 a migration or database error; 2 bad usage or bad input files; 3 `check`
 * found a problem.
 *
 * @module
 */

import { DatabaseError } from "../db/connection.ts";
import { UrlError } from "../db/url.ts";
import { MigrationError } from "../runner/runner.ts";
import { LockTimeoutError } from "../runner/lock.ts";
import { MigrationFileError } from "../revision/script.ts";
import { RevisionError } from "../revision/graph.ts";
import { OptionError } from "../migrate.ts";

/** Ends a command with an exit code after it printed its own report. */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
    this.name = "ExitCode";
  }
}

/** Bad usage that commander cannot see (e.g. a missing `-m`). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The exit code for an error. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof ExitCode) return error.code;
  // The files are fine; the database is at a revision they do not know.
  if (error instanceof RevisionError && error.kind === "unknown-current") return 1;
  if (
    error instanceof UsageError || error instanceof UrlError || error instanceof OptionError ||
    error instanceof MigrationFileError || error instanceof RevisionError
  ) return 2;
  return 1;
}

/** The text after `error:`: what failed and why, then the file, statement and database message. */
export function formatError(error: unknown): string {
  if (error instanceof MigrationError) {
    const lines = [error.message];
    if (error.statement) {
      const where = error.line ? ` (line ${error.line})` : "";
      lines.push(`  statement${where}: ${indentStatement(error.statement)}`);
    }
    return lines.join("\n");
  }
  if (error instanceof DatabaseError) {
    if (!error.statement) return error.message;
    return `${error.message}\n  statement: ${indentStatement(error.statement)}`;
  }
  if (error instanceof LockTimeoutError || error instanceof Error) return error.message;
  return String(error);
}

function indentStatement(sql: string): string {
  const trimmed = sql.trim();
  const short = trimmed.length > 500 ? `${trimmed.slice(0, 497)}...` : trimmed;
  return short.split("\n").join("\n    ");
}
