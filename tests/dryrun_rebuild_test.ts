/**
 * `--sql` for a migration with a SQLite table rebuild prints the real statements: read from
 * the database when there is one (a schema copy, AUTOINCREMENT counters included), or from
 * the chain replayed in memory when there is none or a `from:to` range is given. Neither way
 * changes or creates the database. Also, end to end, through the command line.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { upgrade } from "../lib/migrate.ts";
import { MigrationError, type RunEvent } from "../lib/runner/runner.ts";
import { openSqlite } from "../lib/db/sqlite.ts";
import { sessionDialect } from "../lib/dialect/session.ts";
import { sqlMigration } from "./support/databases.ts";
import { runCli, runtimeTest } from "./support/runtimes.ts";
import { withTempDir, writeFiles } from "./support/tmp.ts";

const CREATE = "c0ffee000001";
const REBUILD = "c0ffee000002";
const CREATE_FILE = `2026_03_01_120000_${CREATE}_create_flow.ts`;
const REBUILD_FILE = `2026_03_02_120000_${REBUILD}_require_score.ts`;

/** Migrations of the chain, as TypeScript modules with no runtime import. */
const CHAIN: Record<string, string> = {
  [CREATE_FILE]: `
export const revision = "${CREATE}";
export const downRevision = null;
export const message = "Create flow";

export async function upgrade({ op, t }) {
  await op.createTable("audit", [
    { name: "id", type: t.integer(), primaryKey: true, autoincrement: true },
    { name: "flow_id", type: t.integer() },
    { name: "what", type: t.varchar(20) },
  ]);
  await op.createTable("flow", [
    { name: "id", type: t.integer(), primaryKey: true, autoincrement: true },
    { name: "name", type: t.varchar(100), nullable: false },
    { name: "score", type: t.integer() },
  ]);
  await op.createIndex("ix_flow_name", "flow", ["name"], { unique: true });
  await op.createIndex("ix_flow_scored", "flow", ["score"], { where: "score > 0" });
  await op.execute(
    "CREATE TRIGGER trg_flow_renamed AFTER UPDATE OF name ON flow " +
      "BEGIN INSERT INTO audit (flow_id, what) VALUES (NEW.id, 'renamed'); END",
  );
  await op.bulkInsert("flow", [1, 2, 3, 4, 5].map((i) => ({ name: "flow " + i, score: i })));
  // The counter (5) stays above the largest id left (3): the rebuild must keep it.
  await op.execute("DELETE FROM flow WHERE id > 3");
}

export async function downgrade({ op }) {
  await op.dropTable("flow");
  await op.dropTable("audit");
}
`,
  [REBUILD_FILE]: `
export const revision = "${REBUILD}";
export const downRevision = "${CREATE}";
export const message = "Require score";

export async function upgrade({ op, t }) {
  await op.batchAlterTable("flow", (b) => {
    b.alterColumn("score", { nullable: false, default: 0 });
    b.addColumn({ name: "runs", type: t.integer(), nullable: false, default: 0 });
  });
}

export async function downgrade({ op }) {
  await op.batchAlterTable("flow", (b) => {
    b.dropColumn("runs");
    b.alterColumn("score", { nullable: true, default: null });
  });
}
`,
};

/** The rebuild, statement by statement, as the dry run must print it. */
const REBUILD_STATEMENTS = [
  "BEGIN IMMEDIATE;",
  "SAVEPOINT strata_batch;",
  "CREATE TABLE _strata_tmp_flow (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, " +
  "name VARCHAR(100) NOT NULL, score INTEGER NOT NULL DEFAULT 0, " +
  "runs INTEGER NOT NULL DEFAULT 0);",
  "INSERT OR ABORT INTO _strata_tmp_flow (id, name, score) SELECT id, name, score FROM flow;",
  "DROP TABLE flow;",
  "ALTER TABLE _strata_tmp_flow RENAME TO flow;",
  "DELETE FROM sqlite_sequence WHERE name = 'flow';",
  "INSERT INTO sqlite_sequence (name, seq) VALUES ('flow', 5);",
  "CREATE UNIQUE INDEX ix_flow_name ON flow (name);",
  "CREATE INDEX ix_flow_scored ON flow (score) WHERE score > 0;",
  "CREATE TRIGGER trg_flow_renamed AFTER UPDATE OF name ON flow " +
  "BEGIN INSERT INTO audit (flow_id, what) VALUES (NEW.id, 'renamed'); END;",
  "RELEASE strata_batch;",
  `UPDATE alembic_version SET version_num='${REBUILD}' ` +
  `WHERE alembic_version.version_num = '${CREATE}';`,
];

function collect() {
  const events: RunEvent[] = [];
  return {
    onEvent: (e: RunEvent) => events.push(e),
    sql: () => events.flatMap((e) => e.type === "sql" ? [e.text] : []),
  };
}

/** The printed block of one migration: from its `-- Running` line to its `COMMIT;`. */
function blockOf(lines: readonly string[], revision: string): string[] {
  const start = lines.findIndex((l) => l.startsWith("-- Running") && l.includes(revision));
  assert.ok(start >= 0, `no block for ${revision} in:\n${lines.join("\n")}`);
  const end = lines.indexOf("COMMIT;", start);
  assert.ok(end > start, `block of ${revision} has no COMMIT`);
  return lines.slice(start, end + 1);
}

/**
 * Assert the whole block of the rebuild migration, the log row by its prefix. The file is
 * shown as the chain directory was given, or relative to the working directory (CLI).
 */
function assertRebuildBlock(lines: readonly string[], chainDir: string) {
  const block = blockOf(lines, REBUILD);
  assert.equal(
    block[0],
    `-- Running upgrade ${CREATE} -> ${REBUILD} (${path.join(chainDir, REBUILD_FILE)})`,
  );
  assert.deepEqual(block.slice(1, -2), REBUILD_STATEMENTS);
  assert.match(block.at(-2)!, /^INSERT INTO strata_log \(.*\) VALUES \('c0ffee000002', 'up'/);
  assert.equal(block.at(-1), "COMMIT;");
}

/** Everything a run could change in a SQLite file: its bytes, and its lockfile. */
function snapshot(file: string) {
  return {
    bytes: fs.readFileSync(file).toString("base64"),
    lock: fs.existsSync(`${file}.lock`),
  };
}

function readRows(file: string, sql: string) {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return db.prepare(sql).all().map((row) => ({ ...row }));
  } finally {
    db.close();
  }
}

async function withChain(
  fn: (paths: { dir: string; migrations: string; chain: string; db: string }) => Promise<void>,
) {
  await withTempDir(async (dir) => {
    const migrations = path.join(dir, "migrations");
    const chain = path.join(migrations, "sqlite");
    writeFiles(chain, CHAIN);
    await fn({ dir, migrations, chain, db: path.join(dir, "app.db") });
  });
}

Deno.test("dry run of a rebuild reads the table from an existing database, changing nothing", async () => {
  await withChain(async ({ migrations, chain, db }) => {
    const options = { url: `sqlite:${db}`, dir: migrations };
    await upgrade(CREATE, options);
    const before = snapshot(db);

    const out = collect();
    const result = await upgrade("head", { ...options, sql: true, onEvent: out.onEvent });
    assert.equal(result.dryRun, true);
    assert.deepEqual(result.before, [CREATE]);
    assert.deepEqual(result.after, [REBUILD]);
    assertRebuildBlock(out.sql(), chain);
    // The bookkeeping tables exist already: no CREATE TABLE for them, nothing before the block.
    assert.equal(out.sql()[0], "PRAGMA foreign_keys=OFF;", "the run's preamble comes first");
    assert.ok(out.sql()[1].startsWith("-- Running upgrade"), out.sql()[1]);
    assert.equal(out.sql().at(-1), "PRAGMA foreign_keys=ON;");

    // (c) The real database is byte for byte what it was, and no lockfile was left.
    assert.deepEqual(snapshot(db), before);
    assert.deepEqual(readRows(db, "SELECT version_num FROM alembic_version"), [
      { version_num: CREATE },
    ]);

    // What the dry run printed is what the real run does.
    await upgrade("head", options);
    assert.deepEqual(readRows(db, "SELECT id, name, score, runs FROM flow ORDER BY id"), [
      { id: 1, name: "flow 1", score: 1, runs: 0 },
      { id: 2, name: "flow 2", score: 2, runs: 0 },
      { id: 3, name: "flow 3", score: 3, runs: 0 },
    ]);
    assert.deepEqual(readRows(db, "SELECT seq FROM sqlite_sequence WHERE name = 'flow'"), [
      { seq: 5 },
    ]);
  });
});

Deno.test("dry run of a rebuild with a from:to range and no database replays the chain in memory", async () => {
  await withChain(async ({ dir, migrations, chain, db }) => {
    const out = collect();
    const result = await upgrade(`${CREATE}:head`, {
      url: `sqlite:${db}`,
      dir: migrations,
      sql: true,
      onEvent: out.onEvent,
    });
    assert.deepEqual(result.before, [CREATE]);
    assert.deepEqual(result.after, [REBUILD]);
    const lines = out.sql();
    // With no database, the bookkeeping tables come first; the first migration is not printed.
    assert.match(lines[0], /^CREATE TABLE IF NOT EXISTS alembic_version /);
    assert.match(lines[1], /^CREATE TABLE IF NOT EXISTS strata_log /);
    assert.ok(!lines.some((l) => l.includes(`-> ${CREATE}`)), "the replay prints nothing");
    assertRebuildBlock(lines, chain);

    assert.ok(!fs.existsSync(db), "the dry run created the database file");
    assert.deepEqual(fs.readdirSync(dir).sort(), ["migrations"]);
  });
});

Deno.test("dry run of a range replays into memory even when the database exists", async () => {
  await withChain(async ({ migrations, chain, db }) => {
    // The file is at base; the range says where to start, and the replay supplies the table.
    const options = { url: `sqlite:${db}`, dir: migrations };
    new DatabaseSync(db).close();
    await upgrade("base", options);
    const before = snapshot(db);
    const out = collect();
    await upgrade(`${CREATE}:${REBUILD}`, { ...options, sql: true, onEvent: out.onEvent });
    assertRebuildBlock(out.sql(), chain);
    assert.deepEqual(snapshot(db), before);
  });
});

Deno.test("shadow schema copy carries the AUTOINCREMENT counters", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "seq.db");
    const source = new DatabaseSync(file);
    source.exec(`
      CREATE TABLE counted (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);
      CREATE TABLE plain (id INTEGER PRIMARY KEY, v TEXT);
      CREATE TABLE sqlitefoo (id INTEGER PRIMARY KEY AUTOINCREMENT);
      INSERT INTO counted (id, v) VALUES (9007199254740993, 'past 2^53');
      DELETE FROM counted;
      INSERT INTO sqlitefoo DEFAULT VALUES;
      INSERT INTO plain (v) VALUES ('x');
      CREATE TABLE dropped (id INTEGER PRIMARY KEY AUTOINCREMENT);
      INSERT INTO dropped DEFAULT VALUES;
      DROP TABLE dropped;
    `);
    source.close();

    const connection = openSqlite(file, { readOnly: true });
    const shadow = openSqlite(":memory:");
    try {
      const script = await sessionDialect("sqlite").schemaScript(connection);
      assert.ok(script);
      await shadow.executeScript(script);
      // Exact, as text: the counter is past what a JavaScript number holds.
      const sequence = await shadow.query(
        "SELECT name, CAST(seq AS TEXT) AS seq FROM sqlite_sequence ORDER BY name",
      );
      assert.deepEqual(
        sequence.map((row) => ({ ...row })),
        [{ name: "counted", seq: "9007199254740993" }, { name: "sqlitefoo", seq: "1" }],
      );
      // No rows but the counters; a table named `sqlite...` (not `sqlite_`) is copied.
      for (const table of ["counted", "plain", "sqlitefoo"]) {
        const [row] = await shadow.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`);
        assert.equal(row.n, 0, table);
      }
    } finally {
      await connection.close();
      await shadow.close();
    }
  });
});

Deno.test("shadow schema copy of a database without AUTOINCREMENT tables has no counters", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "plain.db");
    const source = new DatabaseSync(file);
    source.exec("CREATE TABLE plain (id INTEGER PRIMARY KEY); INSERT INTO plain DEFAULT VALUES;");
    source.close();
    const connection = openSqlite(file, { readOnly: true });
    try {
      assert.equal(
        await sessionDialect("sqlite").schemaScript(connection),
        "CREATE TABLE plain (id INTEGER PRIMARY KEY);",
      );
    } finally {
      await connection.close();
    }
  });
});

runtimeTest("strata upgrade --sql prints a rebuild end to end", async (runtime) => {
  await withChain(async ({ dir, migrations, chain, db }) => {
    const url = `sqlite:${db}`;
    const ranged = await runCli(runtime, [
      "upgrade",
      `${CREATE}:head`,
      "--sql",
      "--url",
      url,
      "--dir",
      migrations,
    ], { cwd: dir });
    assert.equal(ranged.code, 0, ranged.stderr);
    assert.ok(!fs.existsSync(db), "the dry run created the database file");
    const printed = ranged.stdout.split("\n");
    assert.match(printed[0], /^-- strata: sqlite:.*app\.db with .* \(2 revisions\)$/);
    assertRebuildBlock(printed, path.relative(dir, chain));

    const applied = await runCli(runtime, ["upgrade", CREATE, "--url", url, "--dir", migrations], {
      cwd: dir,
    });
    assert.equal(applied.code, 0, applied.stderr);
    const before = snapshot(db);
    const live = await runCli(runtime, ["upgrade", "--sql", "--url", url, "--dir", migrations], {
      cwd: dir,
    });
    assert.equal(live.code, 0, live.stderr);
    assertRebuildBlock(live.stdout.split("\n"), path.relative(dir, chain));
    assert.deepEqual(snapshot(db), before);
  });
});

// ---------------------------------------------------------------------------------------------
// Runner bugs found in review, demonstrated. These fail until lib/runner/runner.ts is fixed.
// ---------------------------------------------------------------------------------------------

const PARENT = "d0ffee000001";
const REBUILD_PARENT = "d0ffee000002";

/** A parent table with a child that references it, then a rebuild of the parent. */
const PARENT_CHAIN: Record<string, string> = {
  [`2026_04_01_120000_${PARENT}_create_parent.sql`]: sqlMigration(
    PARENT,
    null,
    "CREATE TABLE parent (id INTEGER PRIMARY KEY, name VARCHAR(20));\n" +
      "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));\n" +
      "INSERT INTO parent (id, name) VALUES (1, 'one');\n" +
      "INSERT INTO child (id, parent_id) VALUES (1, 1);",
    "DROP TABLE child;\nDROP TABLE parent;",
  ),
  [`2026_04_02_120000_${REBUILD_PARENT}_require_name.ts`]: `
export const revision = "${REBUILD_PARENT}";
export const downRevision = "${PARENT}";
export async function upgrade({ op }) {
  await op.batchAlterTable("parent", (b) => b.alterColumn("name", { nullable: false }));
}
export async function downgrade({ op }) {
  await op.batchAlterTable("parent", (b) => b.alterColumn("name", { nullable: true }));
}
`,
};

Deno.test("dry run rebuilds a referenced table as the real run does (shadow foreign keys)", async () => {
  // node:sqlite opens every database with foreign keys ON, the shadow too; the real run turns
  // them off (prepareRun) but the shadow never does, so the rebuild refuses in the dry run only.
  await withTempDir(async (dir) => {
    const migrations = path.join(dir, "migrations");
    writeFiles(path.join(migrations, "sqlite"), PARENT_CHAIN);
    const db = path.join(dir, "app.db");
    const options = { url: `sqlite:${db}`, dir: migrations };

    for (const [target, setup] of [[`${PARENT}:head`, false], ["head", true]] as const) {
      if (setup) await upgrade(PARENT, options);
      const out = collect();
      try {
        await upgrade(target, { ...options, sql: true, onEvent: out.onEvent });
      } catch (error) {
        assert.fail(
          `dry run ${target} failed: ${error instanceof Error ? error.message : error}`,
        );
      }
      assert.ok(out.sql().includes("DROP TABLE parent;"), out.sql().join("\n"));
    }
    // The real run succeeds.
    await upgrade("head", options);
    assert.deepEqual(readRows(db, "SELECT version_num FROM alembic_version"), [
      { version_num: REBUILD_PARENT },
    ]);
  });
});

Deno.test("dry run of a non-transactional migration wraps the version change as the real run does", async () => {
  // liveStep sends BEGIN IMMEDIATE / version change / log row / COMMIT after the statements of a
  // non-transactional migration; dryRunStep prints the version change and log row bare.
  await withTempDir(async (dir) => {
    const migrations = path.join(dir, "migrations");
    const id = "e0ffee000001";
    writeFiles(path.join(migrations, "sqlite"), {
      [`2026_05_01_120000_${id}_outside.sql`]: sqlMigration(
        id,
        null,
        "CREATE TABLE t (id INTEGER PRIMARY KEY);",
        "DROP TABLE t;",
        { transactional: false },
      ),
    });
    const out = collect();
    await upgrade("head", {
      url: `sqlite:${path.join(dir, "app.db")}`,
      dir: migrations,
      sql: true,
      onEvent: out.onEvent,
    });
    const lines = out.sql();
    const at = lines.indexOf("CREATE TABLE t (id INTEGER PRIMARY KEY);");
    assert.ok(at > 0, lines.join("\n"));
    assert.notEqual(lines[at - 1], "BEGIN IMMEDIATE;", "the statement itself runs in autocommit");
    assert.equal(lines[at + 1], "BEGIN IMMEDIATE;", lines.join("\n"));
    assert.equal(lines[at + 2], `INSERT INTO alembic_version (version_num) VALUES ('${id}');`);
    assert.match(lines[at + 3], /^INSERT INTO strata_log /);
    assert.equal(lines[at + 4], "COMMIT;");
  });
});

Deno.test("a failure after the migration's statements names the statement that failed", async () => {
  // The version change, the log row and COMMIT fail after the migration's statements ran:
  // MigrationError.statement must be strata's, not the migration's last statement.
  await withTempDir(async (dir) => {
    const migrations = path.join(dir, "migrations");
    const id = "f0ffee000001";
    writeFiles(path.join(migrations, "sqlite"), {
      [`2026_06_01_120000_${id}_freeze_versions.sql`]: sqlMigration(
        id,
        null,
        "CREATE TABLE t (id INTEGER PRIMARY KEY);\n" +
          "CREATE TRIGGER freeze BEFORE INSERT ON alembic_version " +
          "BEGIN SELECT RAISE(ABORT, 'versions are frozen'); END;",
        null,
      ),
    });
    const db = path.join(dir, "app.db");
    const error = await upgrade("head", { url: `sqlite:${db}`, dir: migrations }).then(
      () => assert.fail("the upgrade succeeded"),
      (e) => e,
    );
    assert.ok(error instanceof MigrationError, String(error));
    assert.match(error.message, /versions are frozen/);
    // It was the first migration: the bookkeeping tables made for it are gone with it.
    assert.deepEqual(
      readRows(db, "SELECT name FROM sqlite_master WHERE name = 'alembic_version'"),
      [],
    );
    // strata's own statements (version change, log row, COMMIT) go as one text.
    assert.ok(
      error.statement?.startsWith(`INSERT INTO alembic_version (version_num) VALUES ('${id}');`),
      `the error names the version-table statement, not the migration's last one: ${error.statement}`,
    );
    assert.doesNotMatch(error.statement ?? "", /CREATE TRIGGER/);
    assert.equal(error.line, null);
  });
});

Deno.test("dry run prints a statement that ends in a line comment so the script still runs", async () => {
  // DryRunExecutor appends ";" to the statement's last line; after a "--" comment it is
  // commented out, and `strata upgrade --sql | sqlite3` merges the next statement into it.
  await withTempDir(async (dir) => {
    const migrations = path.join(dir, "migrations");
    const id = "a1ffee000001";
    writeFiles(path.join(migrations, "sqlite"), {
      [`2026_07_01_120000_${id}_commented.sql`]: sqlMigration(
        id,
        null,
        "CREATE TABLE t1 (id INTEGER PRIMARY KEY);\nCREATE TABLE t2 (id INTEGER PRIMARY KEY) -- second",
        null,
      ),
    });
    const out = collect();
    await upgrade("head", {
      url: `sqlite:${path.join(dir, "app.db")}`,
      dir: migrations,
      sql: true,
      onEvent: out.onEvent,
    });
    const target = new DatabaseSync(":memory:");
    try {
      target.exec(out.sql().join("\n"));
      const tables = target.prepare(
        "SELECT name FROM sqlite_master WHERE name IN ('t1', 't2') ORDER BY name",
      ).all().map((row) => row.name);
      assert.deepEqual(tables, ["t1", "t2"]);
      assert.deepEqual(
        target.prepare("SELECT version_num FROM alembic_version").all().map((r) => r.version_num),
        [id],
      );
    } finally {
      target.close();
    }
  });
});

Deno.test("dry run of a migration with a bigint parameter prints it instead of crashing", async () => {
  // The real run binds 10n; the dry run's JSON.stringify of the parameters throws a TypeError.
  await withTempDir(async (dir) => {
    const migrations = path.join(dir, "migrations");
    const id = "a2ffee000001";
    writeFiles(path.join(migrations, "sqlite"), {
      [`2026_08_01_120000_${id}_bigint.ts`]: `
export const revision = "${id}";
export const downRevision = null;
export async function upgrade({ op }) {
  await op.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)");
  await op.execute("INSERT INTO t (id) VALUES ($1)", [9007199254740993n]);
}
`,
    });
    const url = `sqlite:${path.join(dir, "app.db")}`;
    const out = collect();
    await upgrade("head", { url, dir: migrations, sql: true, onEvent: out.onEvent });
    assert.ok(out.sql().some((line) => line.includes("9007199254740993")), out.sql().join("\n"));
    await upgrade("head", { url, dir: migrations });
    assert.deepEqual(readRows(path.join(dir, "app.db"), "SELECT CAST(id AS TEXT) AS id FROM t"), [
      { id: "9007199254740993" },
    ]);
  });
});

Deno.test("foreign-key violations that predate a migration do not abort it", async () => {
  // checkBeforeCommit runs PRAGMA foreign_key_check over the whole database, so an orphan row
  // left by an application that never enabled foreign keys (SQLite's default, and Python's)
  // makes every later migration fail, however unrelated.
  await withTempDir(async (dir) => {
    const file = path.join(dir, "app.db");
    const seeded = new DatabaseSync(file, { enableForeignKeyConstraints: false });
    seeded.exec(`
      CREATE TABLE parent (id INTEGER PRIMARY KEY);
      CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));
      INSERT INTO child (id, parent_id) VALUES (1, 42);
    `);
    seeded.close();
    const migrations = path.join(dir, "migrations");
    const id = "a3ffee000001";
    writeFiles(path.join(migrations, "sqlite"), {
      [`2026_09_01_120000_${id}_unrelated.sql`]: sqlMigration(
        id,
        null,
        "CREATE TABLE unrelated (id INTEGER PRIMARY KEY);",
        "DROP TABLE unrelated;",
      ),
    });
    await upgrade("head", { url: `sqlite:${file}`, dir: migrations });
    assert.deepEqual(readRows(file, "SELECT version_num FROM alembic_version"), [
      { version_num: id },
    ]);
  });
});
