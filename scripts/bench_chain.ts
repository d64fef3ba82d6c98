/**
 * The benchmark's workloads as files: one chain of N migrations (a table and an index each)
 * written three ways that run the same SQL: a strata chain of `.sql` files, an Alembic script
 * directory whose revisions `op.execute` it, and one script for the `sqlite3`/`psql` shells
 * with a transaction and the version-table change per migration, as a careful hand would
 * write it. Also the SQLite rebuild workload: a strata `batchAlterTable` migration and the
 * hand-written rebuild it must keep up with.
 *
 * @module
 */

import * as fs from "node:fs";
import * as path from "node:path";
import { bookkeepingDdl } from "../lib/runner/runner.ts";

/** Which database a chain is for; the directory names are strata's. */
export type BenchDialect = "sqlite" | "postgresql";

/** The revision ID of the i-th migration (1-based), 12 hex characters like Alembic's. */
export function benchRevision(i: number): string {
  return `be${i.toString(16).padStart(10, "0")}`;
}

/** The statements of the i-th migration: a table and an index, the same on both dialects. */
export function benchStatements(i: number): string[] {
  const table = `bench_t${String(i).padStart(4, "0")}`;
  return [
    `CREATE TABLE ${table} (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, created_at TIMESTAMP)`,
    `CREATE INDEX ix_${table}_name ON ${table} (name)`,
  ];
}

function timestamp(i: number): string {
  const seconds = i;
  const hh = String(Math.floor(seconds / 3600)).padStart(2, "0");
  const mm = String(Math.floor(seconds / 60) % 60).padStart(2, "0");
  const ss = String(seconds % 60).padStart(2, "0");
  return `2026_01_01_${hh}${mm}${ss}`;
}

/** Write the strata chain: `<root>/<dialect>/…_<rev>_table_<i>.sql`. */
export function writeStrataChain(root: string, dialect: BenchDialect, count: number): void {
  const dir = path.join(root, dialect);
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 1; i <= count; i++) {
    const rev = benchRevision(i);
    const down = i === 1 ? "none" : benchRevision(i - 1);
    const table = `bench_t${String(i).padStart(4, "0")}`;
    fs.writeFileSync(
      path.join(dir, `${timestamp(i)}_${rev}_table_${i}.sql`),
      [
        `-- revision: ${rev}`,
        `-- down_revision: ${down}`,
        `-- message: table ${i}`,
        "",
        "-- migrate:up",
        ...benchStatements(i).map((s) => `${s};`),
        "",
        "-- migrate:down",
        `DROP TABLE ${table};`,
        "",
      ].join("\n"),
    );
  }
}

/**
 * Write an Alembic project for the same chain: `<root>/alembic.ini`, `env.py` reading the URL
 * from `BENCH_URL`, one transaction per migration (as strata runs them).
 */
export function writeAlembicProject(root: string, count: number): string {
  const versions = path.join(root, "scripts", "versions");
  fs.mkdirSync(versions, { recursive: true });
  fs.writeFileSync(
    path.join(root, "alembic.ini"),
    "[alembic]\nscript_location = %(here)s/scripts\n",
  );
  fs.writeFileSync(
    path.join(root, "scripts", "env.py"),
    [
      "import os",
      "from alembic import context",
      "from sqlalchemy import create_engine, pool",
      "",
      'engine = create_engine(os.environ["BENCH_URL"], poolclass=pool.NullPool)',
      "with engine.connect() as connection:",
      "    context.configure(connection=connection, target_metadata=None,",
      "                      transaction_per_migration=True)",
      "    with context.begin_transaction():",
      "        context.run_migrations()",
      "",
    ].join("\n"),
  );
  fs.writeFileSync(
    path.join(root, "scripts", "script.py.mako"),
    '"""${message}"""\nrevision = ${repr(up_revision)}\ndown_revision = ${repr(down_revision)}\n',
  );
  for (let i = 1; i <= count; i++) {
    const down = i === 1 ? "None" : `"${benchRevision(i - 1)}"`;
    fs.writeFileSync(
      path.join(versions, `${benchRevision(i)}_table_${i}.py`),
      [
        `"""table ${i}"""`,
        "from alembic import op",
        "",
        `revision = "${benchRevision(i)}"`,
        `down_revision = ${down}`,
        "branch_labels = None",
        "depends_on = None",
        "",
        "",
        "def upgrade():",
        ...benchStatements(i).map((s) => `    op.execute("${s}")`),
        "",
        "",
        "def downgrade():",
        `    op.execute("DROP TABLE bench_t${String(i).padStart(4, "0")}")`,
        "",
      ].join("\n"),
    );
  }
  return path.join(root, "alembic.ini");
}

/**
 * The same chain as one script for `sqlite3` or `psql -f`: the version table, then per
 * migration a transaction holding its statements and the version-table change.
 */
export function shellScript(
  dialect: BenchDialect,
  count: number,
  options: { deferFlush?: boolean } = {},
): string {
  const begin = dialect === "sqlite" ? "BEGIN IMMEDIATE;" : "BEGIN;";
  const lines = [
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, " +
    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));",
  ];
  for (let i = 1; i <= count; i++) {
    lines.push(begin);
    if (options.deferFlush && i < count) lines.push("SET LOCAL synchronous_commit = off;");
    lines.push(...benchStatements(i).map((s) => `${s};`));
    lines.push(
      i === 1
        ? `INSERT INTO alembic_version (version_num) VALUES ('${benchRevision(i)}');`
        : `UPDATE alembic_version SET version_num = '${benchRevision(i)}' ` +
          `WHERE version_num = '${benchRevision(i - 1)}';`,
    );
    lines.push("COMMIT;");
  }
  return `${lines.join("\n")}\n`;
}

/** Revisions of the rebuild workload: the table's creation (stamped), then the rebuild. */
export const REBUILD_BASE = "ba5e00000001";
export const REBUILD_REV = "ba5e00000002";

/**
 * The table the rebuild works on, and how the base database is filled: as strata leaves it
 * after the base revision (its version table and `strata_log`), so the measured run is the
 * rebuild and not a first run's one-time bookkeeping.
 */
export function rebuildSetupSql(rows: number): string {
  return [
    "PRAGMA journal_mode = DELETE;",
    "CREATE TABLE big (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b TEXT, c REAL);",
    "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < " + rows + ")",
    "INSERT INTO big (id, a, b, c) SELECT i, i % 1000, 'row ' || i, i * 0.5 FROM s;",
    "CREATE INDEX ix_big_a ON big (a);",
    ...bookkeepingDdl("sqlite", "alembic_version").map((sql) => `${sql};`),
    `INSERT INTO alembic_version (version_num) VALUES ('${REBUILD_BASE}');`,
    "",
  ].join("\n");
}

/**
 * The strata chain of the rebuild: the base (already applied) and a `.ts` migration that makes
 * `big.b` NOT NULL, which SQLite can only do by rebuilding the table.
 */
export function writeRebuildChain(root: string): void {
  const dir = path.join(root, "sqlite");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, `2026_02_01_000000_${REBUILD_BASE}_create_big.sql`),
    [
      `-- revision: ${REBUILD_BASE}`,
      "-- down_revision: none",
      "",
      "-- migrate:up",
      "CREATE TABLE big (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b TEXT, c REAL);",
      "CREATE INDEX ix_big_a ON big (a);",
      "",
    ].join("\n"),
  );
  fs.writeFileSync(
    path.join(dir, `2026_02_01_000100_${REBUILD_REV}_big_b_not_null.ts`),
    [
      'import type { MigrationContext } from "@strata/strata";',
      "",
      `export const revision = "${REBUILD_REV}";`,
      `export const downRevision = "${REBUILD_BASE}";`,
      "",
      "export async function upgrade({ op }: MigrationContext): Promise<void> {",
      '  await op.batchAlterTable("big", (batch) => {',
      '    batch.alterColumn("b", { nullable: false });',
      "  });",
      "}",
      "",
    ].join("\n"),
  );
}

/** The rebuild as a careful hand writes it, in one transaction, foreign keys checked. */
export function handRebuildSql(): string {
  return [
    "PRAGMA foreign_keys = OFF;",
    "BEGIN IMMEDIATE;",
    "CREATE TABLE _big_new (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b TEXT NOT NULL, c REAL);",
    "INSERT OR ABORT INTO _big_new (id, a, b, c) SELECT id, a, b, c FROM big;",
    "DROP TABLE big;",
    "ALTER TABLE _big_new RENAME TO big;",
    "CREATE INDEX ix_big_a ON big (a);",
    "PRAGMA foreign_key_check;",
    `UPDATE alembic_version SET version_num = '${REBUILD_REV}' WHERE version_num = '${REBUILD_BASE}';`,
    "COMMIT;",
    "PRAGMA foreign_keys = ON;",
    "",
  ].join("\n");
}
