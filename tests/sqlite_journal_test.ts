/**
 * The journal mode of a SQLite run: a database in the default `delete` mode is migrated with
 * strata's connection in `persist` mode and left in `delete` mode with no journal file behind,
 * after success and after a failure; a WAL database stays in WAL mode, and so does one a
 * migration switches to WAL. On a database file the run creates, the write lock is kept across SQL
 * migrations (`locking_mode=EXCLUSIVE`) and let go for TypeScript migrations, after a failure
 * and at the end of the run; on a database that existed before, it is never kept.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { upgrade } from "../lib/migrate.ts";
import { openSqlite } from "../lib/db/sqlite.ts";
import { KeptLock } from "../lib/dialect/session.ts";
import { linearChain, revisionId as R, sqlMigration } from "./support/databases.ts";
import { withTempDir, writeFiles } from "./support/tmp.ts";

function journalMode(file: string): string {
  const db = new DatabaseSync(file);
  try {
    return String(
      (db.prepare("PRAGMA journal_mode").get() as { journal_mode: string })
        .journal_mode,
    );
  } finally {
    db.close();
  }
}

/** Whether another connection, not waiting at all, can read (or write) the database now. */
function canUse(file: string, sql = "SELECT count(*) AS n FROM sqlite_master"): boolean {
  const db = new DatabaseSync(
    file,
    { timeout: 0 } as ConstructorParameters<typeof DatabaseSync>[1],
  );
  try {
    db.exec(sql);
    return true;
  } catch (error) {
    if (/locked|busy/i.test(String((error as Error).message))) return false;
    throw error;
  } finally {
    db.close();
  }
}

const canWrite = (file: string) => canUse(file, "BEGIN IMMEDIATE; ROLLBACK");

/**
 * Upgrade to head, noting right after each migration's commit whether another connection can
 * read the database (the write lock is not kept).
 */
function upgradeNotingLock(file: string, migrations: string) {
  const readable: boolean[] = [];
  const run = upgrade("head", {
    url: `sqlite:${file}`,
    dir: migrations,
    onEvent: (event) => {
      if (event.type === "step") readable.push(canUse(file));
    },
  });
  return { run, readable };
}

function versions(file: string): string[] {
  const db = new DatabaseSync(file);
  try {
    return db.prepare("SELECT version_num FROM alembic_version").all()
      .map((row) => String(row.version_num));
  } finally {
    db.close();
  }
}

Deno.test("a delete-mode database is left in delete mode, without a journal file", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "app.db");
    const migrations = path.join(dir, "migrations");
    writeFiles(path.join(migrations, "sqlite"), linearChain(3));
    const result = await upgrade("head", { url: `sqlite:${file}`, dir: migrations });
    assert.equal(result.steps.length, 3);
    assert.equal(journalMode(file), "delete");
    assert.ok(!fs.existsSync(`${file}-journal`), "no journal file left behind");

    // A failing migration: rolled back, and the mode restored all the same.
    writeFiles(path.join(migrations, "sqlite"), {
      "2026_02_01_000000_ee0000000001_broken.sql": sqlMigration(
        "ee0000000001",
        versions(file)[0],
        "CREATE TABLE broken (id INTEGER);\nINSERT INTO missing_table VALUES (1);",
        null,
      ),
    });
    await assert.rejects(upgrade("head", { url: `sqlite:${file}`, dir: migrations }));
    assert.equal(journalMode(file), "delete");
    assert.ok(!fs.existsSync(`${file}-journal`), "no journal file left behind");
    assert.ok(canWrite(file), "the write lock is let go after a failure");
  });
});

Deno.test("on a new database file the write lock is kept between SQL migrations, let go for TypeScript ones and at the end", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "app.db");
    const migrations = path.join(dir, "migrations");
    writeFiles(path.join(migrations, "sqlite"), {
      ...linearChain(2),
      // Reads the database on a connection of its own that does not wait: the lock is not kept.
      [`2026_01_01_000003_${R(3)}_reads.ts`]: `import { DatabaseSync } from "node:sqlite";
export const revision = "${R(3)}";
export const downRevision = "${R(2)}";
export async function upgrade({ op }) {
  const other = new DatabaseSync(${JSON.stringify(file)}, { timeout: 0 });
  try {
    other.prepare("SELECT count(*) AS n FROM t1").get();
  } finally {
    other.close();
  }
  await op.execute("CREATE TABLE t3 (id INTEGER PRIMARY KEY)");
}
`,
      [`2026_01_01_000004_${R(4)}_create_t4.sql`]: sqlMigration(
        R(4),
        R(3),
        "CREATE TABLE t4 (id INTEGER PRIMARY KEY);",
      ),
      [`2026_01_01_000005_${R(5)}_create_t5.sql`]: sqlMigration(
        R(5),
        R(4),
        "CREATE TABLE t5 (id INTEGER PRIMARY KEY);",
      ),
    });
    const { run, readable } = upgradeNotingLock(file, migrations);
    assert.equal((await run).steps.length, 5);
    // Right after each commit: kept after SQL migrations, not after the TypeScript one.
    assert.deepEqual(readable, [false, false, true, false, false]);
    assert.ok(canWrite(file), "the write lock is let go at the end");
    assert.deepEqual(versions(file), [R(5)]);
    assert.equal(journalMode(file), "delete");
  });
});

Deno.test("on a new database file the kept write lock is let go after a failure", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "app.db");
    const migrations = path.join(dir, "migrations");
    writeFiles(path.join(migrations, "sqlite"), {
      ...linearChain(2),
      [`2026_01_01_000003_${R(3)}_broken.sql`]: sqlMigration(
        R(3),
        R(2),
        "CREATE TABLE broken (id INTEGER);\nINSERT INTO missing_table VALUES (1);",
      ),
    });
    const { run, readable } = upgradeNotingLock(file, migrations);
    await assert.rejects(run, /missing_table/);
    assert.deepEqual(readable, [false, false], "kept while the run went well");
    assert.ok(canWrite(file), "let go after the failure");
    assert.deepEqual(versions(file), [R(2)]);
    assert.equal(journalMode(file), "delete");
    assert.ok(!fs.existsSync(`${file}-journal`), "no journal file left behind");
  });
});

Deno.test("on a database that existed before the run the write lock is never kept", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "app.db");
    fs.writeFileSync(file, ""); // an empty file is an empty database
    const migrations = path.join(dir, "migrations");
    writeFiles(path.join(migrations, "sqlite"), linearChain(3));
    const { run, readable } = upgradeNotingLock(file, migrations);
    await run;
    assert.deepEqual(readable, [true, true, true]);
    assert.equal(journalMode(file), "delete");
  });
});

Deno.test("a kept write lock keeps the main database only, and is let go on request", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "app.db");
    const other = path.join(dir, "other.db");
    const connection = openSqlite(file);
    try {
      await connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)");
      await connection.execute(`ATTACH DATABASE '${other.replaceAll("'", "''")}' AS aux`);
      await connection.execute("CREATE TABLE aux.o (id INTEGER PRIMARY KEY)");
      const lock = new KeptLock(connection);
      const commit = () =>
        connection.executeScript(
          "BEGIN IMMEDIATE; INSERT INTO t DEFAULT VALUES; INSERT INTO aux.o DEFAULT VALUES; COMMIT",
        );
      await lock.beforeStep(true);
      await commit();
      assert.ok(!canUse(file), "kept after the commit");
      assert.ok(canWrite(other), "an attached database is not kept");
      await lock.beforeStep(true);
      assert.ok(!canUse(file), "still kept for the next SQL migration");
      await lock.beforeStep(false);
      assert.ok(canWrite(file), "let go before a migration that may not keep it");
      await commit();
      assert.ok(canUse(file), "not kept by a migration that may not keep it");
      await lock.beforeStep(true);
      await commit();
      assert.ok(!canUse(file), "kept again");
      await lock.release();
      assert.ok(canWrite(file), "let go at the end");
      await lock.release();
    } finally {
      await connection.close();
    }
  });
});

Deno.test("a database a migration switches to WAL is left in WAL mode", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "app.db");
    const migrations = path.join(dir, "migrations");
    writeFiles(path.join(migrations, "sqlite"), {
      ...linearChain(1),
      [`2026_01_01_000002_${R(2)}_wal.sql`]: sqlMigration(
        R(2),
        R(1),
        "PRAGMA journal_mode=WAL;",
        null,
        {
          transactional: false,
        },
      ),
      [`2026_01_01_000003_${R(3)}_create_t3.sql`]: sqlMigration(
        R(3),
        R(2),
        "CREATE TABLE t3 (id INTEGER PRIMARY KEY);",
      ),
    });
    await upgrade("head", { url: `sqlite:${file}`, dir: migrations });
    assert.equal(journalMode(file), "wal");
    assert.deepEqual(versions(file), [R(3)]);
    assert.ok(canWrite(file));
  });
});

Deno.test("a journal mode a migration sets for its connection leaves no journal file behind", async () => {
  for (const mode of ["TRUNCATE", "MEMORY", "OFF"]) {
    for (const transactional of [true, false]) {
      await withTempDir(async (dir) => {
        const file = path.join(dir, "app.db");
        const migrations = path.join(dir, "migrations");
        writeFiles(path.join(migrations, "sqlite"), {
          ...linearChain(1),
          [`2026_01_01_000002_${R(2)}_mode.sql`]: sqlMigration(
            R(2),
            R(1),
            `PRAGMA journal_mode=${mode};`,
            null,
            { transactional },
          ),
          [`2026_01_01_000003_${R(3)}_create_t3.sql`]: sqlMigration(
            R(3),
            R(2),
            "CREATE TABLE t3 (id INTEGER PRIMARY KEY);",
          ),
        });
        await upgrade("head", { url: `sqlite:${file}`, dir: migrations });
        const what = `${mode}, transactional: ${transactional}`;
        assert.deepEqual(versions(file), [R(3)], what);
        assert.equal(journalMode(file), "delete", what);
        assert.ok(!fs.existsSync(`${file}-journal`), `no journal file left behind (${what})`);
        assert.ok(canWrite(file), what);
      });
    }
  }
});

Deno.test("a database a migration attaches keeps its journal mode, and gets no journal file", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "app.db");
    const wal = path.join(dir, "wal.db");
    const plain = path.join(dir, "plain.db");
    const setup = new DatabaseSync(wal);
    setup.exec("PRAGMA journal_mode=WAL; CREATE TABLE w (id INTEGER PRIMARY KEY)");
    setup.close();
    const setupPlain = new DatabaseSync(plain);
    setupPlain.exec("CREATE TABLE p (id INTEGER PRIMARY KEY)");
    setupPlain.close();
    const quoted = (f: string) => `'${f.replaceAll("'", "''")}'`;
    const migrations = path.join(dir, "migrations");
    writeFiles(path.join(migrations, "sqlite"), {
      ...linearChain(1),
      [`2026_01_01_000002_${R(2)}_attach.sql`]: sqlMigration(
        R(2),
        R(1),
        `ATTACH DATABASE ${quoted(wal)} AS w;\nATTACH DATABASE ${quoted(plain)} AS p;`,
        null,
        { transactional: false },
      ),
      [`2026_01_01_000003_${R(3)}_write.sql`]: sqlMigration(
        R(3),
        R(2),
        "INSERT INTO w.w DEFAULT VALUES;\nINSERT INTO p.p DEFAULT VALUES;",
      ),
    });
    await upgrade("head", { url: `sqlite:${file}`, dir: migrations });
    assert.equal(journalMode(wal), "wal", "the attached WAL database stays WAL");
    assert.ok(!fs.existsSync(`${plain}-journal`), "no journal file beside the attached one");
    assert.equal(journalMode(file), "delete");
    assert.deepEqual(versions(file), [R(3)]);
  });
});

Deno.test("a WAL database stays in WAL mode", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "app.db");
    const db = new DatabaseSync(file);
    db.exec("PRAGMA journal_mode=WAL");
    db.close();
    const migrations = path.join(dir, "migrations");
    writeFiles(path.join(migrations, "sqlite"), linearChain(2));
    await upgrade("head", { url: `sqlite:${file}`, dir: migrations });
    assert.equal(journalMode(file), "wal");
  });
});
