/**
 * SQLite foreign-key checks per migration, on real files: only what a migration touched is
 * checked, violations it adds roll it back and are listed, and violations that predate it are
 * not blamed on it.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import * as path from "node:path";
import { upgrade } from "../lib/migrate.ts";
import { MigrationError, type RunEvent } from "../lib/runner/runner.ts";
import { sqlMigration } from "./support/databases.ts";
import { withTempDir, writeFiles } from "./support/tmp.ts";

const BASE = "fc0000000001";

async function withParentChild(
  fn: (file: string, write: (id: string, up: string) => void, migrations: string) => Promise<void>,
) {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "app.db");
    const migrations = path.join(dir, "migrations");
    let parent = BASE;
    const write = (id: string, up: string) => {
      writeFiles(path.join(migrations, "sqlite"), {
        [`2026_10_01_${id.slice(-6)}_${id}_step.sql`]: sqlMigration(id, parent, up, null),
      });
      parent = id;
    };
    writeFiles(path.join(migrations, "sqlite"), {
      [`2026_10_01_000001_${BASE}_base.sql`]: sqlMigration(
        BASE,
        null,
        `CREATE TABLE parent (id INTEGER PRIMARY KEY);
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));
CREATE TABLE other (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));
INSERT INTO parent (id) VALUES (1), (2);
INSERT INTO child (id, parent_id) VALUES (1, 1), (2, 2);`,
        null,
      ),
    });
    await fn(file, write, migrations);
  });
}

function rows(file: string, sql: string) {
  const db = new DatabaseSync(file);
  try {
    return db.prepare(sql).all().map((row) => ({ ...row }));
  } finally {
    db.close();
  }
}

Deno.test("a DELETE that orphans child rows rolls back and names them", async () => {
  await withParentChild(async (file, write, migrations) => {
    write("fc0000000002", "DELETE FROM parent WHERE id = 2;");
    const error = await upgrade("head", { url: `sqlite:${file}`, dir: migrations }).then(
      () => assert.fail("should fail"),
      (e) => e,
    );
    assert.ok(error instanceof MigrationError, String(error));
    assert.match(
      error.message,
      /1 foreign-key violation\(s\), rolled back:\n {2}child row 2 references a missing row of parent/,
    );
    assert.deepEqual(rows(file, "SELECT id FROM parent ORDER BY id"), [{ id: 1 }, { id: 2 }]);
    assert.deepEqual(rows(file, "SELECT version_num FROM alembic_version"), [{
      version_num: BASE,
    }]);
  });
});

Deno.test("an INSERT that breaks a foreign key rolls back; old orphans are not blamed", async () => {
  await withParentChild(async (file, write, migrations) => {
    await upgrade("head", { url: `sqlite:${file}`, dir: migrations });
    // An application without enforcement left an orphan behind.
    const db = new DatabaseSync(file, { enableForeignKeyConstraints: false });
    db.exec("INSERT INTO child (id, parent_id) VALUES (3, 99)");
    db.close();
    write("fc0000000002", "INSERT INTO child (id, parent_id) VALUES (4, 1);");
    const events: RunEvent[] = [];
    await upgrade("head", {
      url: `sqlite:${file}`,
      dir: migrations,
      onEvent: (e) => events.push(e),
    });
    const warnings = events.filter((e) => e.type === "warning").map((e) => e.message).join("\n");
    assert.match(warnings, /already had 1 foreign-key violation/);

    write("fc0000000003", "INSERT INTO child (id, parent_id) VALUES (5, 77);");
    await assert.rejects(
      upgrade("head", { url: `sqlite:${file}`, dir: migrations }),
      (e: unknown) =>
        e instanceof MigrationError && /1 foreign-key violation/.test(e.message) &&
        /child row 5 references a missing row of parent/.test(e.message) &&
        !/child row 3 /.test(e.message),
    );
  });
});

Deno.test("a child touched after its parent is baselined once: its new orphan is caught", async () => {
  await withParentChild(async (file, write, migrations) => {
    await upgrade("head", { url: `sqlite:${file}`, dir: migrations });
    const db = new DatabaseSync(file, { enableForeignKeyConstraints: false });
    db.exec("INSERT INTO child (id, parent_id) VALUES (3, 99)");
    db.close();
    // Touching the parent baselines its children; the child is then written itself.
    write(
      "fc0000000002",
      "UPDATE parent SET id = id WHERE id = 1;\nINSERT INTO child (id, parent_id) VALUES (5, 77);",
    );
    await assert.rejects(
      upgrade("head", { url: `sqlite:${file}`, dir: migrations }),
      (e: unknown) =>
        e instanceof MigrationError && /1 foreign-key violation/.test(e.message) &&
        /child row 5 references a missing row of parent/.test(e.message),
    );
  });
});

Deno.test("a switch to the full check mid-migration still blames the earlier statements", async () => {
  await withParentChild(async (file, _write, migrations) => {
    // Statements run one at a time (a TypeScript migration): the parent's rows go first, then
    // a statement the tracker cannot attribute switches it to the full check.
    writeFiles(path.join(migrations, "sqlite"), {
      "2026_10_01_000002_fc0000000002_step.ts": `export const revision = "fc0000000002";
export const downRevision = "${BASE}";
export async function upgrade({ op }) {
  await op.execute("DELETE FROM parent WHERE id = 2");
  await op.execute("WITH one AS (SELECT 1 AS id) UPDATE other SET parent_id = (SELECT id FROM one)");
}
`,
    });
    await assert.rejects(
      upgrade("head", { url: `sqlite:${file}`, dir: migrations }),
      (e: unknown) =>
        e instanceof MigrationError &&
        /child row 2 references a missing row of parent/.test(e.message),
    );
    assert.deepEqual(rows(file, "SELECT id FROM parent ORDER BY id"), [{ id: 1 }, { id: 2 }]);
  });
});

Deno.test("a table created and filled in one migration is checked", async () => {
  await withParentChild(async (file, write, migrations) => {
    write(
      "fc0000000002",
      `CREATE TABLE grandchild (id INTEGER PRIMARY KEY, child_id INTEGER REFERENCES child (id));
CREATE INDEX ix_grandchild_child ON grandchild (child_id);
INSERT INTO grandchild (id, child_id) VALUES (1, 1), (2, 42);`,
    );
    await assert.rejects(
      upgrade("head", { url: `sqlite:${file}`, dir: migrations }),
      (e: unknown) =>
        e instanceof MigrationError &&
        /grandchild row 2 references a missing row of child/.test(e.message),
    );
    assert.deepEqual(
      rows(file, "SELECT name FROM sqlite_master WHERE name = 'grandchild'"),
      [],
      "the migration is rolled back",
    );
  });
});

Deno.test("statements it cannot attribute fall back to the full check", async () => {
  await withParentChild(async (file, write, migrations) => {
    write(
      "fc0000000002",
      "WITH gone AS (SELECT 2 AS id) DELETE FROM parent WHERE id IN (SELECT id FROM gone);",
    );
    await assert.rejects(
      upgrade("head", { url: `sqlite:${file}`, dir: migrations }),
      /child row 2 references a missing row of parent/,
    );
  });
});

Deno.test("a write to a table with triggers falls back to the full check", async () => {
  await withParentChild(async (file, write, migrations) => {
    write(
      "fc0000000002",
      `CREATE TABLE audit (id INTEGER PRIMARY KEY, n INTEGER);
CREATE TRIGGER purge AFTER INSERT ON audit BEGIN DELETE FROM parent WHERE id = NEW.n; END;
INSERT INTO audit (id, n) VALUES (1, 2);`,
    );
    await assert.rejects(
      upgrade("head", { url: `sqlite:${file}`, dir: migrations }),
      /child row 2 references a missing row of parent/,
    );
  });
});

Deno.test("a rebuild of a table holding an old orphan is not blamed for it", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "app.db");
    const seeded = new DatabaseSync(file, { enableForeignKeyConstraints: false });
    // Text keys: the rebuild copies rows under new implicit rowids.
    seeded.exec(`
      CREATE TABLE parent (id TEXT PRIMARY KEY);
      CREATE TABLE child (id TEXT PRIMARY KEY, parent_id TEXT REFERENCES parent (id), n INTEGER);
      INSERT INTO parent (id) VALUES ('p1');
      INSERT INTO child (id, parent_id, n) VALUES ('c9', 'p1', 1), ('c1', 'gone', 2), ('c2', 'p1', 3);
      DELETE FROM child WHERE id = 'c9';
    `);
    seeded.close();
    const migrations = path.join(dir, "migrations");
    writeFiles(path.join(migrations, "sqlite"), {
      "2026_10_02_000001_fd0000000001_rebuild_child.ts": `
export const revision = "fd0000000001";
export const downRevision = null;
export async function upgrade({ op }) {
  await op.batchAlterTable("child", (b) => b.alterColumn("n", { nullable: false }));
}
export async function downgrade() {}
`,
    });
    const events: RunEvent[] = [];
    await upgrade("head", {
      url: `sqlite:${file}`,
      dir: migrations,
      onEvent: (e) => events.push(e),
    });
    assert.deepEqual(rows(file, "SELECT version_num FROM alembic_version"), [{
      version_num: "fd0000000001",
    }]);
    assert.match(
      events.filter((e) => e.type === "warning").map((e) => e.message).join("\n"),
      /already had 1 foreign-key violation/,
    );
  });
});
