/**
 * The journal mode of a SQLite run: a database in the default `delete` mode is migrated with
 * strata's connection in `persist` mode and left in `delete` mode with no journal file behind,
 * after success and after a failure; a WAL database stays in WAL mode. The write lock kept
 * across SQL migrations (`locking_mode=EXCLUSIVE`) is let go for TypeScript migrations, every
 * `KEPT_LOCK_SLICE_MS`, after a failure and at the end of the run.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { upgrade } from "../lib/migrate.ts";
import { openSqlite } from "../lib/db/sqlite.ts";
import { KEPT_LOCK_SLICE_MS, KeptLock } from "../lib/dialect/session.ts";
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

Deno.test("the write lock is kept between SQL migrations and let go for TypeScript ones and at the end", async () => {
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
    const readable: boolean[] = [];
    const result = await upgrade("head", {
      url: `sqlite:${file}`,
      dir: migrations,
      onEvent: (event) => {
        if (event.type === "step") readable.push(canUse(file));
      },
    });
    assert.equal(result.steps.length, 5);
    // Right after each commit: kept after SQL migrations, not after the TypeScript one.
    assert.deepEqual(readable, [false, false, true, false, false]);
    assert.ok(canWrite(file), "the write lock is let go at the end");
    assert.deepEqual(versions(file), [R(5)]);
    assert.equal(journalMode(file), "delete");
  });
});

Deno.test("a kept write lock is let go between migrations once it was held for a slice", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "app.db");
    const connection = openSqlite(file);
    try {
      await connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)");
      const lock = new KeptLock(connection);
      const commit = () =>
        connection.executeScript("BEGIN IMMEDIATE; INSERT INTO t DEFAULT VALUES; COMMIT");
      await lock.beforeStep(true);
      await commit();
      assert.ok(!canUse(file), "kept after the commit");
      await lock.beforeStep(true);
      assert.ok(!canUse(file), "still kept within the slice");
      await new Promise((resolve) => setTimeout(resolve, KEPT_LOCK_SLICE_MS + 20));
      await lock.beforeStep(true);
      assert.ok(canUse(file), "let go once the slice is over");
      await commit();
      assert.ok(!canUse(file), "kept again after the next commit");
      await lock.beforeStep(false);
      assert.ok(canWrite(file), "let go before a migration that may not keep it");
      await commit();
      assert.ok(canUse(file), "not kept by a migration that may not keep it");
      await lock.release();
      assert.ok(canWrite(file));
    } finally {
      await connection.close();
    }
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
