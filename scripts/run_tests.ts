/**
 * `deno task test`: everything a new machine needs for the full suite, then `deno test`.
 *
 * (Not named `test.ts`: `deno test` would take a file of that name for a test module and run
 * this orchestration inside itself, recursively.)
 *
 * 1. PostgreSQL: `STRATA_TEST_DATABASE_URL`, else 127.0.0.1:5432, else a throwaway cluster
 *    (initdb/pg_ctl), stopped afterwards.
 * 2. Bun for the runtime matrix: on PATH, else installed from npm into `.cache/bun`.
 * 3. Alembic for the differential tests: imported by python3, else installed with pip or apt-get.
 *
 * Under `CI`, anything missing makes the run fail (the tests that need it fail and say why);
 * elsewhere those tests are skipped and the summary says so loudly.
 *
 * @module
 */

import { findOrInstallAlembic } from "./tools.ts";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { findOrStartPg, type PgServer } from "./pg_cluster.ts";
import { findOrInstallBun, ROOT } from "./bun.ts";

const root = ROOT;
const ci = Boolean(process.env.CI);
const notes: string[] = [];

if (process.env.STRATA_TEST_ORCHESTRATED) {
  console.error("test: refusing to run the suite inside itself (STRATA_TEST_ORCHESTRATED is set)");
  process.exit(2);
}

let pg: PgServer | null = null;
try {
  pg = await findOrStartPg();
  console.log(`test: PostgreSQL from ${pg.origin} (${pg.url})`);
} catch (error) {
  notes.push(`PostgreSQL: none could be found or started (${(error as Error).message})`);
}
const bun = findOrInstallBun();
if (!bun) notes.push("Bun: not on PATH and could not be installed from npm");
const python = findOrInstallAlembic((line) => console.log(`test: ${line}`));
if (!python) {
  notes.push("Alembic: no python3 imports alembic, and neither pip nor apt-get could install it");
}

const env: Record<string, string> = { ...process.env as Record<string, string> };
env.STRATA_TEST_ORCHESTRATED = "1";
if (pg) env.STRATA_TEST_DATABASE_URL = pg.url;
else env.STRATA_TEST_NO_PG = "1";
if (bun) env.STRATA_TEST_BUN = bun;
if (python) env.STRATA_TEST_PYTHON = python;

const started = Date.now();
const result = spawnSync(
  process.execPath,
  ["test", "--allow-all", "--parallel", ...process.argv.slice(2)],
  { cwd: root, env: { ...env, DENO_JOBS: env.DENO_JOBS ?? "2" }, stdio: "inherit" },
);
await pg?.stop();

const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (notes.length > 0) {
  const banner = ci ? "FAILED (CI requires every suite)" : "SKIPPED SUITES";
  console.log(`\n${"!".repeat(72)}\n${banner}:`);
  for (const note of notes) console.log(`  - ${note}`);
  console.log(`${"!".repeat(72)}`);
}
console.log(`test: deno test exited ${result.status} after ${seconds} s`);
process.exit(result.status !== 0 ? (result.status ?? 1) : (ci && notes.length > 0 ? 1 : 0));
