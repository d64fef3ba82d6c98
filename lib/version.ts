/**
 * strata's version, and the line `strata --version` prints.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { runtimeInfo } from "./runtime.ts";

/** The version of strata. */
export const VERSION = "0.1.0";

/** The SQLite library version the runtime ships. */
export function sqliteVersion(): string {
  const db = new DatabaseSync(":memory:");
  try {
    return String((db.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v);
  } finally {
    db.close();
  }
}

/** `strata 0.1.0 (bun 1.4.5, compiled; SQLite 3.54.1)`. */
export function versionLine(): string {
  const runtime = runtimeInfo();
  return `strata ${VERSION} (${runtime.name} ${runtime.version}${
    runtime.compiled ? ", compiled" : ""
  }; SQLite ${sqliteVersion()})`;
}
