/**
 * The journal mode of a SQLite run: a database in the default `delete` mode is migrated with
 * strata's connection in `persist` mode and left in `delete` mode with no journal file behind,
 * after success and after a failure; a WAL database stays in WAL mode.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { upgrade } from "../lib/migrate.ts";
import { linearChain, sqlMigration } from "./support/databases.ts";
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
