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
import { openSqlite } from "../lib/db/sqlite.ts";
import { SqliteForeignKeyTracker } from "../lib/dialect/sqlite_foreign_keys.ts";

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

/** A seeded database (foreign keys off), one migration, and what must happen. */
interface TrackerCase {
  readonly name: string;
  readonly seed: string;
  /** `.sql` body, or a TypeScript `upgrade` body (statements run one at a time). */
  readonly sql?: string;
  readonly ts?: string;
  /** A pattern the failure must match, or "commits". */
  readonly expect: RegExp | "commits";
}

const PARENT_CHILD = `CREATE TABLE parent (id INTEGER PRIMARY KEY);
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));
INSERT INTO parent (id) VALUES (1), (2);
INSERT INTO child (id, parent_id) VALUES (1, 1), (2, 2);`;
const WITH_ORPHAN = `${PARENT_CHILD}\nINSERT INTO child (id, parent_id) VALUES (3, 99);`;

const TRACKER_CASES: readonly TrackerCase[] = [
  {
    name: "a parent dropped and created again",
    seed: PARENT_CHILD,
    sql: "DROP TABLE parent;\nCREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);",
    expect: /child row 1 references a missing row of parent/,
  },
  {
    name: "CREATE TABLE IF NOT EXISTS of an existing parent, then a delete",
    seed: PARENT_CHILD,
    sql: "CREATE TABLE IF NOT EXISTS parent (id INTEGER PRIMARY KEY);\n" +
      "DELETE FROM parent WHERE id = 2;",
    expect: /child row 2 references a missing row of parent/,
  },
  {
    name: "an old orphan removed and a new one added",
    seed: WITH_ORPHAN,
    sql: "DELETE FROM child WHERE id = 3;\nINSERT INTO child (id, parent_id) VALUES (5, 77);",
    expect: /1 foreign-key violation.*\n {2}child row 5 /,
  },
  {
    name: "a table created and filled, then its parent touched (one statement at a time)",
    seed: PARENT_CHILD,
    ts:
      `await op.execute("CREATE TABLE c2 (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id))");
  await op.execute("INSERT INTO c2 (id, parent_id) VALUES (1, 99)");
  await op.execute("UPDATE parent SET id = id WHERE id = 1");`,
    expect: /c2 row 1 references a missing row of parent/,
  },
  {
    name: "several statements in one op.execute",
    seed: PARENT_CHILD,
    ts: `await op.execute("SELECT 1; DELETE FROM parent WHERE id = 2");`,
    expect: /child row 2 references a missing row of parent/,
  },
  {
    name: "a quoted table name with a dot",
    seed: `CREATE TABLE "acct.parent" (id INTEGER PRIMARY KEY);
CREATE TABLE kid (id INTEGER PRIMARY KEY, p INTEGER REFERENCES "acct.parent" (id));
INSERT INTO "acct.parent" VALUES (1), (2); INSERT INTO kid VALUES (1, 2);`,
    sql: 'DELETE FROM "acct.parent" WHERE id = 2;',
    expect: /kid row 1 references a missing row of acct\.parent/,
  },
  {
    name: "a trigger whose quoted name holds ' on '",
    seed: `${PARENT_CHILD}\nCREATE TABLE audit (id INTEGER PRIMARY KEY, n INTEGER);`,
    sql:
      `CREATE TRIGGER "purge on insert" AFTER INSERT ON audit BEGIN DELETE FROM parent WHERE id = NEW.n; END;
INSERT INTO audit (id, n) VALUES (1, 2);`,
    expect: /child row 2 references a missing row of parent/,
  },
  {
    name: "an old orphan in a renamed child and under a renamed parent is not blamed",
    seed: WITH_ORPHAN,
    sql: "ALTER TABLE child RENAME TO kid;\nALTER TABLE parent RENAME TO mom;",
    expect: "commits",
  },
  {
    name: "an old orphan is not blamed when an added key renumbers the foreign keys",
    seed: WITH_ORPHAN,
    sql: "ALTER TABLE child ADD COLUMN other_id INTEGER REFERENCES parent (id);",
    expect: "commits",
  },
  {
    name: "a table SQLite cannot check, broken before the migration, is skipped",
    seed: `${PARENT_CHILD}
CREATE TABLE legacy (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent (nonexistent));
INSERT INTO legacy VALUES (1, 1);`,
    sql: "INSERT INTO parent (id) VALUES (3);",
    expect: "commits",
  },
  {
    name: "a new table and its index, then filled with an orphan",
    seed: PARENT_CHILD,
    sql: "CREATE TABLE c3 (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));\n" +
      "CREATE INDEX ix_c3 ON c3 (parent_id);\nINSERT INTO c3 (id, parent_id) VALUES (1, 99);",
    expect: /c3 row 1 references a missing row of parent/,
  },
  {
    name: "only new tables and indexes (committed without a check: they are empty)",
    seed: PARENT_CHILD,
    sql: "CREATE TABLE c4 (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));\n" +
      "CREATE INDEX ix_c4 ON c4 (parent_id);",
    expect: "commits",
  },
  {
    name: "a new table filled one statement at a time, then nothing queued",
    seed: PARENT_CHILD,
    ts:
      `await op.execute("CREATE TABLE c5 (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id))");
  await op.execute("INSERT INTO c5 (id, parent_id) VALUES (1, 99)");`,
    expect: /c5 row 1 references a missing row of parent/,
  },
  {
    name: "dropping the unique index a foreign key needs",
    seed: `CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT);
CREATE UNIQUE INDEX ux_code ON parent (code);
CREATE TABLE child (id INTEGER PRIMARY KEY, code TEXT REFERENCES parent (code));
INSERT INTO parent VALUES (1, 'a'); INSERT INTO child VALUES (1, 'a');`,
    sql: "DROP INDEX ux_code;",
    expect: /foreign keys of child cannot be checked after this migration/,
  },
];

for (const c of TRACKER_CASES) {
  Deno.test(`tracker: ${c.name}`, async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, "app.db");
      const seed = new DatabaseSync(file, { enableForeignKeyConstraints: false });
      seed.exec(c.seed);
      seed.close();
      const migrations = path.join(dir, "migrations");
      const id = "fd0000000001";
      writeFiles(path.join(migrations, "sqlite"), {
        [`2026_10_01_000001_${id}_case.${c.ts ? "ts" : "sql"}`]: c.ts
          ? `export const revision = "${id}";\nexport const downRevision = null;\n` +
            `export async function upgrade({ op }) {\n  ${c.ts}\n}\n`
          : sqlMigration(id, null, c.sql!, null),
      });
      const before = rows(file, "SELECT type, name, sql FROM sqlite_master ORDER BY name");
      const run = upgrade("head", { url: `sqlite:${file}`, dir: migrations });
      const expected = c.expect;
      if (expected === "commits") {
        await run;
        return;
      }
      await assert.rejects(run, (e: unknown) => e instanceof Error && expected.test(e.message));
      assert.deepEqual(
        rows(file, "SELECT type, name, sql FROM sqlite_master ORDER BY name")
          .filter((r) => !/alembic_version|strata_log/.test(String(r.name))),
        before,
        "rolled back",
      );
    });
  });
}

Deno.test("noteUnchecked: only statements that create new tables (or change nothing) pass", async () => {
  const connection = openSqlite(":memory:");
  try {
    // As in a run: enforcement off, the tracker checks.
    await connection.execute("PRAGMA foreign_keys=OFF");
    await connection.executeScript(PARENT_CHILD);
    const fresh = () => new SqliteForeignKeyTracker(connection);
    assert.equal(
      fresh().noteUnchecked([
        "CREATE TABLE a (x INTEGER)",
        "CREATE INDEX ix_a ON a (x)",
        "SELECT 1",
      ]),
      true,
    );
    assert.equal(fresh().noteUnchecked([]), true);
    for (
      const refused of [
        ["CREATE TABLE a (x INTEGER)", "INSERT INTO a (x) VALUES (1)"],
        ["CREATE TABLE a (x INTEGER); INSERT INTO a (x) VALUES (1)"],
        ["CREATE TABLE IF NOT EXISTS parent (id INTEGER PRIMARY KEY)"],
        ["CREATE TRIGGER tr AFTER INSERT ON parent BEGIN DELETE FROM child; END"],
        ["DROP INDEX IF EXISTS ix_x"],
        ["WITH x AS (SELECT 1) DELETE FROM parent"],
      ]
    ) {
      const tracker = fresh();
      assert.equal(tracker.noteUnchecked(refused), false, refused.join("; "));
      // Nothing was noted: the same statements go through before() and are checked there.
      assert.deepEqual(await tracker.added(), []);
    }
    // A write noted before makes any later batch need the check.
    const tracker = fresh();
    await tracker.before(["DELETE FROM parent WHERE id = 2"]);
    assert.equal(tracker.noteUnchecked(["CREATE TABLE z (x INTEGER)"]), false);
    await connection.execute("DELETE FROM parent WHERE id = 2");
    assert.match((await tracker.added()).join("\n"), /child row 2 references a missing row/);
  } finally {
    await connection.close();
  }
});

Deno.test("a migration that only creates tables logs the time its statements took", async () => {
  // Found by review: its statements once went out after its log row was built.
  await withTempDir(async (dir) => {
    const file = path.join(dir, "app.db");
    const migrations = path.join(dir, "migrations");
    const id = "fe0000000001";
    writeFiles(path.join(migrations, "sqlite"), {
      [`2026_10_01_000001_${id}_big.sql`]: sqlMigration(
        id,
        null,
        "CREATE TABLE big AS WITH RECURSIVE c(x) AS " +
          "(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) SELECT x FROM c;\n" +
          "CREATE INDEX big_x ON big (x);",
        null,
      ),
    });
    const durations: number[] = [];
    await upgrade("head", {
      url: `sqlite:${file}`,
      dir: migrations,
      onEvent: (e) => e.type === "step" && durations.push(e.durationMs),
    });
    const [row] = rows(file, "SELECT duration_ms FROM strata_log WHERE revision = '" + id + "'");
    assert.ok(durations[0] > 20, `the migration took time: ${durations[0]} ms`);
    assert.ok(
      Number(row.duration_ms) >= 0.5 * durations[0],
      `logged ${row.duration_ms} ms of ${durations[0]} ms`,
    );
  });
});
