/**
 * A benchmark baseline: run a SQL script on a SQLite database through `node:sqlite`, the same
 * SQLite library strata uses on this runtime, so that strata's overhead is compared engine for
 * engine (the `sqlite3` shell may ship an older SQLite).
 *
 * ```
 * bun scripts/bench_exec_sql.ts DATABASE SCRIPT
 * ```
 *
 * @module
 */

import * as fs from "node:fs";
import process from "node:process";
import { DatabaseSync } from "node:sqlite";

const [database, script] = process.argv.slice(2);
if (!database || !script) {
  console.error("usage: bench_exec_sql.ts DATABASE SCRIPT");
  process.exit(2);
}
const db = new DatabaseSync(database);
try {
  db.exec(fs.readFileSync(script, "utf8"));
} finally {
  db.close();
}
