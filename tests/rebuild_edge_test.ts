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
      assert.match((error as MigrationError).statement ?? "", /^INSERT INTO _strata_tmp_t /);
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
