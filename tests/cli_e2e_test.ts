/**
 * End-to-end: the command line under Deno and under Bun, on real SQLite files and a real
 * PostgreSQL database.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import * as path from "node:path";
import postgres from "postgres";
import { runCli, runtimeTest } from "./support/runtimes.ts";
import { withTempDir, writeFiles } from "./support/tmp.ts";
import { createTestDatabase, POSTGRES } from "./support/pg.ts";

/** A small chain of `.sql` files for both dialects. */
function writeChain(dir: string): void {
  for (const dialect of ["sqlite", "postgresql"]) {
    writeFiles(path.join(dir, "migrations", dialect), {
      "2026_01_01_000000_aaaa00000001_create_flow.sql": `-- revision: aaaa00000001
-- down_revision: none
-- message: Create flow

-- migrate:up
CREATE TABLE flow (id INTEGER PRIMARY KEY, name VARCHAR(200) NOT NULL);

-- migrate:down
DROP TABLE flow;
`,
      "2026_01_02_000000_aaaa00000002_add_labels.sql": `-- revision: aaaa00000002
-- down_revision: aaaa00000001
-- message: Add labels

-- migrate:up
ALTER TABLE flow ADD COLUMN labels TEXT;
INSERT INTO flow (id, name, labels) VALUES (1, 'first; with a semicolon', '{}');

-- migrate:down
ALTER TABLE flow DROP COLUMN labels;
`,
      "2026_01_03_000000_aaaa00000003_broken.sql.disabled": "not a migration",
    });
  }
}

runtimeTest("--version names strata, the runtime and SQLite", async (runtime) => {
  const result = await runCli(runtime, ["--version"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`^strata \\d+\\.\\d+\\.\\d+ \\(${runtime.name} [\\d.]+`));
  assert.match(result.stdout, /SQLite 3\.\d+/);
});

runtimeTest("--help lists the commands", async (runtime) => {
  const result = await runCli(runtime, ["--help"]);
  assert.equal(result.code, 0, result.stderr);
  for (const command of ["upgrade", "downgrade", "stamp", "current"]) {
    assert.match(result.stdout, new RegExp(`\\b${command}\\b`));
  }
});

runtimeTest("an unknown option is a usage error (exit 2)", async (runtime) => {
  const result = await runCli(runtime, ["upgrade", "--no-such-option"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown option/);
});

runtimeTest("upgrade applies .sql migrations to a SQLite file", async (runtime) => {
  await withTempDir(async (dir) => {
    writeChain(dir);
    const db = path.join(dir, "app.db");
    const result = await runCli(runtime, ["--url", `sqlite:${db}`, "upgrade"], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /↑ 2026_01_01_000000 aaaa00000001 create_flow/);
    assert.match(result.stdout, /↑ 2026_01_02_000000 aaaa00000002 add_labels/);
    const sqlite = new DatabaseSync(db);
    try {
      const versions = sqlite.prepare("SELECT version_num FROM alembic_version").all();
      assert.deepEqual(versions.map((r) => r.version_num), ["aaaa00000002"]);
      const row = sqlite.prepare("SELECT name FROM flow WHERE id = 1").get();
      assert.equal(row?.name, "first; with a semicolon");
    } finally {
      sqlite.close();
    }
    const again = await runCli(runtime, ["--url", `sqlite:${db}`, "upgrade"], { cwd: dir });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /nothing to do/);
  });
});

runtimeTest("upgrade applies .sql migrations to a PostgreSQL database", async (runtime) => {
  const database = await createTestDatabase();
  try {
    await withTempDir(async (dir) => {
      writeChain(dir);
      const result = await runCli(runtime, ["--url", database.url, "upgrade", "head"], {
        cwd: dir,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /2 migrations applied/);
      const sql = postgres(database.url, { max: 1, onnotice: () => {} });
      try {
        const versions = await sql`SELECT version_num FROM alembic_version`;
        assert.deepEqual(versions.map((r) => r.version_num), ["aaaa00000002"]);
        const [{ n }] = await sql`SELECT count(*)::int AS n FROM flow`;
        assert.equal(n, 1);
      } finally {
        await sql.end();
      }
    });
  } finally {
    await database.drop();
  }
}, [POSTGRES]);

runtimeTest("a failing statement exits 1, names file, revision and statement", async (runtime) => {
  await withTempDir(async (dir) => {
    writeChain(dir);
    writeFiles(path.join(dir, "migrations", "sqlite"), {
      "2026_01_03_000000_aaaa00000003_bad.sql": `-- revision: aaaa00000003
-- down_revision: aaaa00000002

-- migrate:up
CREATE TABLE run (id INTEGER PRIMARY KEY);
INSERT INTO nowhere VALUES (1);
`,
    });
    const db = path.join(dir, "app.db");
    const result = await runCli(runtime, ["--url", `sqlite:${db}`, "upgrade"], { cwd: dir });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /error: Cannot apply aaaa00000003 \(.*_bad\.sql\): .*no such table: nowhere/,
    );
    assert.match(result.stderr, /statement \(line 6\): INSERT INTO nowhere/);
    const sqlite = new DatabaseSync(db);
    try {
      const versions = sqlite.prepare("SELECT version_num FROM alembic_version").all();
      assert.deepEqual(versions.map((r) => r.version_num), ["aaaa00000002"]);
      const run = sqlite.prepare("SELECT name FROM sqlite_master WHERE name = 'run'").all();
      assert.equal(run.length, 0, "the failed migration's CREATE TABLE was rolled back");
    } finally {
      sqlite.close();
    }
  });
});
