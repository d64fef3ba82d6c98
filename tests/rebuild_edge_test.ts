/**
 * Edge cases of SQLite batch rebuilds (`op.batchAlterTable`) on real database files, each run
 * as a migration through `upgrade`: renames inside one batch, columns named like SQL
 * functions, hidden rowids, AUTOINCREMENT counters past 2^53, clauses the table parser must
 * keep, the rowid alias, atomicity outside a transaction, and views and triggers a dropped
 * column would break.
 */

import assert from "node:assert/strict";
import * as path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { upgrade } from "../lib/migrate.ts";
import type { MigrationError, RunEvent } from "../lib/runner/runner.ts";
import { withTempDir, writeFiles } from "./support/tmp.ts";

const REVISION = "edbe00000001";

interface Migrated {
  /** The database after the run, opened with 64-bit integers as bigints. */
  readonly db: DatabaseSync;
  /** The run's error, if it failed. */
  readonly error?: Error;
  /** The statements the run printed (dry runs). */
  readonly sql: readonly string[];
}

/**
 * Create a database with `setup`, run one migration whose `upgrade` body is `body`, and hand
 * the result to `check`.
 */
async function migrate(
  setup: string,
  body: string,
  check: (result: Migrated) => void,
  options: { transactional?: boolean; dryRun?: boolean } = {},
): Promise<void> {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "app.db");
    const initial = new DatabaseSync(file);
    initial.exec(setup);
    initial.close();
    writeFiles(path.join(dir, "migrations", "sqlite"), {
      [`2026_05_01_120000_${REVISION}_edge.ts`]: `
export const revision = "${REVISION}";
export const downRevision = null;
export const transactional = ${options.transactional ?? true};

export async function upgrade({ op, t }) {
${body}
}
`,
    });
    const events: RunEvent[] = [];
    let error: Error | undefined;
    try {
      await upgrade("head", {
        url: `sqlite:${file}`,
        dir: path.join(dir, "migrations"),
        sql: options.dryRun ?? false,
        onEvent: (event: RunEvent) => events.push(event),
      });
    } catch (caught) {
      error = caught as Error;
    }
    const db = new DatabaseSync(
      file,
      { readBigInts: true } as ConstructorParameters<
        typeof DatabaseSync
      >[1],
    );
    try {
      check({ db, error, sql: events.flatMap((e) => e.type === "sql" ? [e.text] : []) });
    } finally {
      db.close();
    }
  });
}

/** Rows as plain objects (bigints left as they are). */
function rows(db: DatabaseSync, query: string): Record<string, unknown>[] {
  return db.prepare(query).all().map((row) => ({ ...row }));
}

/** The user schema: every object but the bookkeeping tables. */
function schemaOf(db: DatabaseSync): Record<string, unknown>[] {
  return rows(
    db,
    "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'alembic%' AND " +
      "name NOT LIKE 'strata%' AND name NOT LIKE 'sqlite_autoindex_alembic%' ORDER BY type, name",
  );
}

function columnsOf(db: DatabaseSync, table: string): Record<string, unknown>[] {
  return rows(db, `SELECT name, type, "notnull", dflt_value FROM pragma_table_info('${table}')`);
}

Deno.test("batch: each rename refers to names as they stand at its point in the batch", async () => {
  await migrate(
    `CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT);
     INSERT INTO t VALUES (1, '7', 'b1'), (2, NULL, NULL);`,
    `await op.batchAlterTable("t", (b) => {
       b.alterColumn("b", { newName: "c" });
       b.alterColumn("a", { newName: "b", type: t.integer(), nullable: false, default: 0,
         using: "coalesce(b, 0)" });
       b.alterColumn("c", { default: "none" });
     });`,
    ({ db, error }) => {
      assert.equal(error, undefined);
      assert.deepEqual(columnsOf(db, "t"), [
        { name: "id", type: "INTEGER", notnull: 0n, dflt_value: null },
        { name: "b", type: "INTEGER", notnull: 1n, dflt_value: "0" },
        { name: "c", type: "TEXT", notnull: 0n, dflt_value: "'none'" },
      ]);
      assert.deepEqual(rows(db, "SELECT id, b, c FROM t ORDER BY id"), [
        { id: 1n, b: 7n, c: "b1" },
        { id: 2n, b: 0n, c: null },
      ]);
    },
  );
});

Deno.test("batch: dropping a column named like a SQL function keeps what calls the function", async () => {
  await migrate(
    `CREATE TABLE t (id INTEGER PRIMARY KEY, "date" TEXT, "lower" TEXT, length INTEGER,
       name TEXT, created TEXT CHECK (date(created) IS NOT NULL));
     CREATE INDEX ix_lower ON t (lower(name));
     CREATE UNIQUE INDEX ux_name ON t (name) WHERE length(name) > 0;
     CREATE INDEX ix_length ON t (length);
     INSERT INTO t VALUES (1, 'd', 'l', 3, 'A', '2024-01-01');`,
    `await op.batchAlterTable("t", (b) => {
       b.dropColumn("date");
       b.dropColumn("lower");
       b.dropColumn("length");
     });`,
    ({ db, error }) => {
      assert.equal(error, undefined);
      assert.deepEqual(schemaOf(db), [
        { type: "index", name: "ix_lower", sql: "CREATE INDEX ix_lower ON t (lower(name))" },
        {
          type: "index",
          name: "ux_name",
          sql: "CREATE UNIQUE INDEX ux_name ON t (name) WHERE length(name) > 0",
        },
        {
          type: "table",
          name: "t",
          sql: 'CREATE TABLE "t" (id INTEGER PRIMARY KEY, name TEXT, ' +
            "created TEXT CHECK (date(created) IS NOT NULL))",
        },
      ]);
      assert.throws(() => db.exec("INSERT INTO t (name, created) VALUES ('b', 'not a date')"), {
        message: /CHECK constraint failed/,
      });
    },
  );
});

Deno.test("batch: a rebuild keeps the hidden rowids of a table without INTEGER PRIMARY KEY", async () => {
  await migrate(
    `CREATE TABLE doc (title TEXT, body TEXT);
     CREATE VIRTUAL TABLE doc_fts USING fts5(title, body, content='doc');
     INSERT INTO doc VALUES ('one', 'apple'), ('two', 'banana'), ('three', 'cherry');
     INSERT INTO doc_fts (rowid, title, body) SELECT rowid, title, body FROM doc;
     INSERT INTO doc_fts (doc_fts, rowid, title, body) VALUES ('delete', 1, 'one', 'apple');
     DELETE FROM doc WHERE title = 'one';
     CREATE TABLE keyed (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID;
     INSERT INTO keyed VALUES ('x', 1);`,
    `await op.batchAlterTable("doc", (b) => b.alterColumn("title", { nullable: false }));
     await op.batchAlterTable("keyed", (b) => b.alterColumn("v", { nullable: false }));`,
    ({ db, error }) => {
      assert.equal(error, undefined);
      assert.deepEqual(rows(db, "SELECT rowid, title FROM doc ORDER BY rowid"), [
        { rowid: 2n, title: "two" },
        { rowid: 3n, title: "three" },
      ]);
      assert.deepEqual(
        rows(
          db,
          "SELECT d.title FROM doc_fts f JOIN doc d ON d.rowid = f.rowid " +
            "WHERE doc_fts MATCH 'cherry'",
        ),
        [{ title: "three" }],
      );
      assert.deepEqual(rows(db, "SELECT k, v FROM keyed"), [{ k: "x", v: 1n }]);
    },
  );
});

Deno.test("batch: a rebuild restores an AUTOINCREMENT counter above 2^53 exactly", async () => {
  await migrate(
    `CREATE TABLE a (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);
     INSERT INTO a (id, v) VALUES (9007199254740991, 'x');
     INSERT INTO a (v) VALUES ('y'), ('z');
     DELETE FROM a WHERE v <> 'x';`,
    `await op.batchAlterTable("a", (b) => b.alterColumn("v", { nullable: false, default: "q" }));`,
    ({ db, error }) => {
      assert.equal(error, undefined);
      assert.deepEqual(rows(db, "SELECT seq FROM sqlite_sequence WHERE name = 'a'"), [
        { seq: 9007199254740993n },
      ]);
      assert.deepEqual(rows(db, "INSERT INTO a (v) VALUES ('new') RETURNING id"), [
        { id: 9007199254740994n },
      ]);
    },
  );
});

Deno.test("batch: ON DELETE SET NULL / SET DEFAULT and -- comments survive a rebuild", async () => {
  await migrate(
    `CREATE TABLE p (id INTEGER PRIMARY KEY);
     CREATE TABLE c (
       id INTEGER PRIMARY KEY, -- the key
       pid INTEGER REFERENCES p(id) ON DELETE SET NULL ON UPDATE SET DEFAULT,
       qid INTEGER DEFAULT 1 REFERENCES p(id) ON DELETE SET DEFAULT,
       note TEXT -- last column
     );
     INSERT INTO p VALUES (1), (2);
     INSERT INTO c VALUES (1, 2, 2, 'n');`,
    `await op.batchAlterTable("c", (b) => {
       b.alterColumn("pid", { type: t.bigint() });
       b.alterColumn("qid", { default: 1, nullable: false });
       b.alterColumn("note", { default: "z" });
     });`,
    ({ db, error }) => {
      assert.equal(error, undefined);
      assert.deepEqual(
        rows(
          db,
          'SELECT "from", "table", "to", on_update, on_delete FROM pragma_foreign_key_list(\'c\') ORDER BY "from"',
        ),
        [
          { from: "pid", table: "p", to: "id", on_update: "SET DEFAULT", on_delete: "SET NULL" },
          { from: "qid", table: "p", to: "id", on_update: "NO ACTION", on_delete: "SET DEFAULT" },
        ],
      );
      assert.deepEqual(columnsOf(db, "c"), [
        { name: "id", type: "INTEGER", notnull: 0n, dflt_value: null },
        { name: "pid", type: "BIGINT", notnull: 0n, dflt_value: null },
        { name: "qid", type: "INTEGER", notnull: 1n, dflt_value: "1" },
        { name: "note", type: "TEXT", notnull: 0n, dflt_value: "'z'" },
      ]);
      db.exec("PRAGMA foreign_keys = ON; DELETE FROM p WHERE id = 2");
      assert.deepEqual(rows(db, "SELECT id, pid, qid, note FROM c"), [
        { id: 1n, pid: null, qid: 1n, note: "n" },
      ]);
    },
  );
});

Deno.test("batch: changing the type of an INTEGER PRIMARY KEY keeps it the rowid alias", async () => {
  await migrate(
    `CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);
     CREATE TABLE s (id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT);
     INSERT INTO t VALUES (5, 'x');
     INSERT INTO s VALUES (5, 'x');`,
    `await op.batchAlterTable("t", (b) => b.alterColumn("id", { type: t.bigint() }));
     await op.batchAlterTable("s", (b) => b.alterColumn("id", { type: t.smallint() }));`,
    ({ db, error }) => {
      assert.equal(error, undefined);
      for (const table of ["t", "s"]) {
        assert.deepEqual(
          rows(db, `INSERT INTO ${table} (a) VALUES ('new') RETURNING rowid AS r, id`),
          [
            { r: 6n, id: 6n },
          ],
        );
      }
    },
  );
  await migrate(
    `CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);`,
    `await op.batchAlterTable("t", (b) => b.alterColumn("id", { type: t.text() }));`,
    ({ db, error }) => {
      assert.match(error?.message ?? "", /Cannot change the type of t\.id/);
      assert.deepEqual(columnsOf(db, "t")[0], {
        name: "id",
        type: "INTEGER",
        notnull: 0n,
        dflt_value: null,
      });
    },
  );
});

const ATOMIC_SETUP = `
  CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT);
  CREATE TABLE o (x INTEGER);
  CREATE TABLE log (m TEXT);
  CREATE INDEX ix_b ON t (b);
  CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (NEW.a); END;
  CREATE TRIGGER tro AFTER INSERT ON o BEGIN DELETE FROM t WHERE id = NEW.x; END;
  CREATE VIEW v AS SELECT * FROM t;
  INSERT INTO t VALUES (1, 'a', NULL);`;

Deno.test("batch: a failed rebuild outside a transaction leaves everything as it was", async () => {
  const before = new DatabaseSync(":memory:");
  before.exec(ATOMIC_SETUP);
  const expected = schemaOf(before);
  before.close();
  await migrate(
    ATOMIC_SETUP,
    `await op.batchAlterTable("t", (b) => {
       b.alterColumn("a", { newName: "aa" });
       b.alterColumn("b", { nullable: false });
     });`,
    ({ db, error }) => {
      assert.match(error?.message ?? "", /NOT NULL constraint failed/);
      // The failure names the statement that failed, not the rollback after it.
      assert.match(
        (error as MigrationError).statement ?? "",
        /^INSERT OR ABORT INTO _strata_tmp_t /,
      );
      assert.deepEqual(schemaOf(db), expected);
      assert.deepEqual(rows(db, "SELECT id, a, b FROM t"), [{ id: 1n, a: "a", b: null }]);
      assert.deepEqual(
        rows(db, "SELECT count(*) AS n FROM sqlite_master WHERE name LIKE '_strata_tmp%'"),
        [
          { n: 0n },
        ],
      );
    },
    { transactional: false },
  );
  // A successful one applies completely, and the dry run prints the savepoint the real run uses.
  await migrate(
    ATOMIC_SETUP,
    `await op.batchAlterTable("t", (b) => {
       b.alterColumn("a", { newName: "aa" });
       b.alterColumn("b", { default: "d" });
     });`,
    ({ error, sql }) => {
      assert.equal(error, undefined);
      const start = sql.indexOf("SAVEPOINT strata_batch;");
      assert.ok(start >= 0, sql.join("\n"));
      assert.equal(sql[start + 1], "ALTER TABLE t RENAME COLUMN a TO aa;");
      assert.ok(sql.indexOf("RELEASE strata_batch;") > start, sql.join("\n"));
    },
    { transactional: false, dryRun: true },
  );
});

Deno.test("batch: dropping a column a view or trigger uses fails and names them", async () => {
  const cases = [
    {
      setup: "CREATE VIEW vb AS SELECT id, b FROM t;",
      message: /view vb uses t\.b/,
    },
    {
      setup: "CREATE TRIGGER tr_own AFTER UPDATE ON t BEGIN INSERT INTO log VALUES (NEW.b); END;",
      message: /trigger tr_own uses t\.b/,
    },
    {
      // Nothing can fire it once b is gone, but its body still names the column.
      setup:
        "CREATE TRIGGER tr_of AFTER UPDATE OF b ON t BEGIN INSERT INTO log VALUES (OLD.b); END;",
      message: /trigger tr_of uses t\.b/,
    },
    {
      setup: "CREATE TRIGGER tr_other AFTER INSERT ON o BEGIN " +
        "UPDATE t SET b = 'x' WHERE id = NEW.x; END;",
      message: /trigger tr_other uses t\.b/,
    },
  ];
  for (const { setup, message } of cases) {
    const full = `CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT);
      CREATE TABLE o (x INTEGER, b TEXT);
      CREATE TABLE log (m TEXT);
      INSERT INTO t VALUES (1, 'a', 'b');
      ${setup}`;
    await migrate(
      full,
      `await op.batchAlterTable("t", (b) => b.dropColumn("b"));`,
      ({ db, error }) => {
        assert.match(error?.message ?? "", message);
        assert.deepEqual(columnsOf(db, "t").map((c) => c.name), ["id", "a", "b"]);
      },
    );
  }
  // A trigger that names a column of the same name on its own table is not blamed.
  await migrate(
    `CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT);
     CREATE TABLE o (x INTEGER, b TEXT);
     CREATE TRIGGER tr_o AFTER INSERT ON o BEGIN UPDATE t SET a = NEW.b WHERE id = NEW.x; END;
     CREATE VIEW va AS SELECT id, a FROM t;`,
    `await op.batchAlterTable("t", (b) => b.dropColumn("b"));`,
    ({ db, error }) => {
      assert.equal(error, undefined);
      assert.deepEqual(columnsOf(db, "t").map((c) => c.name), ["id", "a"]);
      db.exec("INSERT INTO t VALUES (1, 'a'); INSERT INTO o VALUES (1, 'z')");
      assert.deepEqual(rows(db, "SELECT * FROM va"), [{ id: 1n, a: "z" }]);
    },
  );
});

Deno.test("batch: columns named with single quotes keep their values through a rebuild", async () => {
  await migrate(
    `CREATE TABLE person (id INTEGER PRIMARY KEY, 'full name' TEXT, 'age' INTEGER, note TEXT);
     INSERT INTO person VALUES (1, 'Ada Lovelace', 36, 'x'), (2, 'Alan Turing', 41, 'y');`,
    `await op.batchAlterTable("person", (b) => {
       b.alterColumn("note", { nullable: false });
       b.alterColumn("full name", { default: "?" });
     });`,
    ({ db, error }) => {
      assert.equal(error, undefined);
      assert.deepEqual(rows(db, `SELECT id, "full name" AS n, age FROM person ORDER BY id`), [
        { id: 1n, n: "Ada Lovelace", age: 36n },
        { id: 2n, n: "Alan Turing", age: 41n },
      ]);
      assert.equal(
        columnsOf(db, "person").find((c) => c.name === "full name")?.dflt_value,
        "'?'",
      );
    },
  );
});

Deno.test("batch: a table's ON CONFLICT IGNORE/REPLACE cannot drop rows of the copy", async () => {
  const cases = [
    "CREATE TABLE item (id INTEGER PRIMARY KEY, code TEXT UNIQUE ON CONFLICT IGNORE, label TEXT)",
    "CREATE TABLE item (id INTEGER, code TEXT PRIMARY KEY ON CONFLICT REPLACE, label TEXT)",
  ];
  for (const create of cases) {
    await migrate(
      `${create};
       INSERT INTO item VALUES (1, '1', 'first'), (2, '01', 'second'), (3, '1.0', 'third');`,
      `await op.batchAlterTable("item", (b) => b.alterColumn("code", { type: t.integer() }));`,
      ({ db, error }) => {
        assert.match(error?.message ?? "", /UNIQUE constraint failed/, create);
        assert.deepEqual(rows(db, "SELECT count(*) AS n FROM item"), [{ n: 3n }], create);
        assert.deepEqual(
          rows(db, "SELECT name FROM sqlite_master WHERE name = 'alembic_version'"),
          [],
        );
      },
    );
  }
});

Deno.test("batch: names differing only in non-ASCII case are different tables and columns", async () => {
  await migrate(
    `CREATE TABLE "Été" (id INTEGER PRIMARY KEY, x TEXT, y TEXT);
     CREATE TABLE "été" (id INTEGER PRIMARY KEY, x TEXT, y TEXT);
     INSERT INTO "Été" VALUES (1, 'upper-x', 'upper-y');
     INSERT INTO "été" VALUES (1, 'lower-x', 'lower-y');
     CREATE TABLE col (id INTEGER PRIMARY KEY, "É" TEXT, "é" TEXT);
     INSERT INTO col VALUES (1, 'big E', 'small e');`,
    `await op.batchAlterTable("été", (b) => b.dropColumn("y"));
     await op.batchAlterTable("col", (b) => b.dropColumn("é"));`,
    ({ db, error }) => {
      assert.equal(error, undefined);
      assert.deepEqual(rows(db, `SELECT * FROM "Été"`), [{ id: 1n, x: "upper-x", y: "upper-y" }]);
      assert.deepEqual(rows(db, `SELECT * FROM "été"`), [{ id: 1n, x: "lower-x" }]);
      assert.deepEqual(rows(db, "SELECT * FROM col"), [{ id: 1n, "É": "big E" }]);
    },
  );
  // SQLite folds A-Z only: "ÉTÉ" names neither table.
  await migrate(
    `CREATE TABLE "été" (id INTEGER PRIMARY KEY, x TEXT, y TEXT);`,
    `await op.batchAlterTable("ÉTÉ", (b) => b.dropColumn("y"));`,
    ({ db, error }) => {
      assert.match(error?.message ?? "", /no such table/);
      assert.deepEqual(columnsOf(db, "été").map((c) => c.name), ["id", "x", "y"]);
    },
  );
});

Deno.test("batch: outside a transaction, foreign keys are checked before the batch commits", async () => {
  // A new foreign key an existing row breaks: the batch is not kept.
  await migrate(
    `CREATE TABLE flow (id INTEGER PRIMARY KEY, name TEXT);
     CREATE TABLE note (id INTEGER PRIMARY KEY, flow_id INTEGER, body TEXT);
     INSERT INTO flow VALUES (1, 'a');
     INSERT INTO note VALUES (1, 1, 'ok'), (2, 99, 'orphan');`,
    `await op.batchAlterTable("note", (b) => {
       b.createForeignKey({ name: "fk_note_flow", columns: ["flow_id"], refTable: "flow", refColumns: ["id"] });
     });`,
    ({ db, error }) => {
      assert.match(error?.message ?? "", /violate foreign keys.*note row 2/);
      assert.doesNotMatch(
        String(rows(db, "SELECT sql FROM sqlite_master WHERE name = 'note'")[0].sql),
        /fk_note_flow/,
      );
    },
    { transactional: false },
  );
  // Dropping the column a child's key references: the column and its data stay.
  await migrate(
    `CREATE TABLE flow (id INTEGER PRIMARY KEY, code TEXT UNIQUE, name TEXT);
     CREATE TABLE task (id INTEGER PRIMARY KEY, flow_code TEXT REFERENCES flow(code));
     INSERT INTO flow VALUES (1, 'A', 'a'); INSERT INTO task VALUES (1, 'A');`,
    `await op.batchAlterTable("flow", (b) => b.dropColumn("code"));`,
    ({ db, error }) => {
      assert.match(error?.message ?? "", /cannot be checked/);
      assert.deepEqual(rows(db, "SELECT code FROM flow"), [{ code: "A" }]);
    },
    { transactional: false },
  );
});

Deno.test("batch: a batch with no rebuild is whole outside a transaction too", async () => {
  await migrate(
    `CREATE TABLE flow (id INTEGER PRIMARY KEY, nm TEXT, descr TEXT);
     INSERT INTO flow VALUES (1, 'a', 'd');`,
    `await op.batchAlterTable("flow", (b) => {
       b.alterColumn("nm", { newName: "name" });
       b.alterColumn("descr", { newName: "description" });
       b.createIndex("ix_flow_missing", ["no_such_column"]);
     });`,
    ({ db, error }) => {
      assert.match(error?.message ?? "", /no_such_column/);
      assert.deepEqual(columnsOf(db, "flow").map((c) => c.name), ["id", "nm", "descr"]);
    },
    { transactional: false },
  );
});

/** A flow table and a task table holding `count` orphans, as an app without foreign keys left them. */
function orphans(count: number): string {
  return `PRAGMA foreign_keys = OFF;
    CREATE TABLE flow (id INTEGER PRIMARY KEY, name TEXT);
    CREATE TABLE task (id INTEGER PRIMARY KEY, flow_id INTEGER REFERENCES flow(id));
    INSERT INTO flow VALUES (1, 'a');
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${count})
    INSERT INTO task SELECT x, 1000000 + x FROM c;`;
}

Deno.test("foreign keys: old orphans by the hundred thousand are no obstacle, and not blamed", async () => {
  await migrate(
    orphans(150000),
    `await op.batchAlterTable("flow", (b) => b.alterColumn("name", { nullable: false }));
     await op.execute("INSERT INTO task VALUES (150001, 1)");`,
    ({ db, error }) => {
      assert.equal(error, undefined);
      assert.deepEqual(rows(db, "SELECT count(*) AS n FROM task"), [{ n: 150001n }]);
      assert.equal(columnsOf(db, "flow").find((c) => c.name === "name")?.notnull, 1n);
    },
  );
  // One more orphan among them is still caught.
  await migrate(
    orphans(2000),
    `await op.execute("INSERT INTO task VALUES (2001, 7)");`,
    ({ db, error }) => {
      assert.match(error?.message ?? "", /1 foreign-key violation.*task row 2001/s);
      assert.deepEqual(rows(db, "SELECT count(*) AS n FROM task"), [{ n: 2000n }]);
    },
  );
});

/** A WITHOUT ROWID child holding one orphan from before strata. */
const OLD_ORPHAN = `PRAGMA foreign_keys = OFF;
  CREATE TABLE parent (id INTEGER PRIMARY KEY);
  CREATE TABLE child (k TEXT PRIMARY KEY, p INTEGER REFERENCES parent(id)) WITHOUT ROWID;
  INSERT INTO parent VALUES (1);
  INSERT INTO child VALUES ('old', 99);`;

Deno.test("foreign keys: a new orphan in a WITHOUT ROWID child with an old one is caught", async () => {
  await migrate(
    OLD_ORPHAN,
    `await op.execute("DELETE FROM child WHERE k = 'old'");
     await op.execute("INSERT INTO child VALUES ('new', 12345)");`,
    ({ db, error }) => {
      assert.match(error?.message ?? "", /1 foreign-key violation/);
      assert.deepEqual(rows(db, "SELECT k, p FROM child"), [{ k: "old", p: 99n }]);
    },
  );
  // The old orphan alone, kept as it was, is not blamed.
  await migrate(
    OLD_ORPHAN,
    `await op.execute("INSERT INTO child VALUES ('fine', 1)");`,
    ({ error }) => assert.equal(error, undefined),
  );
});

Deno.test("dry run: a database holding an FTS5 table (and its shadow tables) prints the rebuild", async () => {
  await migrate(
    `CREATE TABLE doc (id INTEGER PRIMARY KEY, body TEXT, note TEXT);
     CREATE VIRTUAL TABLE doc_fts USING fts5(body, content='doc', content_rowid='id');
     INSERT INTO doc VALUES (1, 'hello world', 'n');
     INSERT INTO doc_fts(rowid, body) VALUES (1, 'hello world');`,
    `await op.batchAlterTable("doc", (b) => b.alterColumn("note", { nullable: false }));`,
    ({ error, sql }) => {
      assert.equal(error, undefined);
      assert.ok(
        sql.some((s) => s.startsWith("INSERT OR ABORT INTO _strata_tmp_doc")),
        sql.join("\n"),
      );
    },
    { dryRun: true },
  );
});

Deno.test("foreign keys: WITHOUT ROWID orphans the anti-join cannot read as SQLite does are counted", async () => {
  // Child 1 -> parent '01': SQLite's check calls it an orphan, a plain SELECT finds '01' = 1.
  await migrate(
    `PRAGMA foreign_keys = OFF;
     CREATE TABLE parent (k TEXT PRIMARY KEY);
     INSERT INTO parent VALUES ('01');
     CREATE TABLE child (id INTEGER PRIMARY KEY, pk INTEGER REFERENCES parent(k)) WITHOUT ROWID;
     INSERT INTO child VALUES (1, 1), (2, 99);`,
    `await op.execute("DELETE FROM child WHERE id = 1");`,
    ({ db, error }) => {
      assert.equal(error, undefined);
      assert.deepEqual(rows(db, "SELECT id FROM child"), [{ id: 2n }]);
    },
  );
  // A parent dropped long ago: its old orphans are no obstacle.
  await migrate(
    `PRAGMA foreign_keys = OFF;
     CREATE TABLE parent (k INTEGER PRIMARY KEY);
     CREATE TABLE child (id INTEGER PRIMARY KEY, pk INTEGER REFERENCES parent(k)) WITHOUT ROWID;
     INSERT INTO child VALUES (1, 7);
     DROP TABLE parent;`,
    `await op.execute("INSERT INTO child VALUES (2, NULL)");`,
    ({ error }) => assert.equal(error, undefined),
  );
});
