/**
 * Operations on a real SQLite file: a batch rebuild of a 10,000-row table with a self-reference,
 * cascading children, partial and expression indexes, a trigger and a view, run the way the
 * runner runs a migration (foreign keys off, BEGIN IMMEDIATE, check, COMMIT).
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createMigrationContext } from "../lib/ops/context.ts";
import { ForeignKeyViolationError, UnsupportedOperationError } from "../lib/ops/errors.ts";
import { sqliteExecutor } from "./support/executors.ts";

const FLOWS = 10_000;

async function openDatabase(): Promise<{ db: DatabaseSync; cleanup: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "strata_ops_" });
  const db = new DatabaseSync(`${dir}/test.db`);
  return {
    db,
    cleanup: async () => {
      db.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function seed(db: DatabaseSync): void {
  db.exec("PRAGMA foreign_keys = ON");
  db.exec(`
    CREATE TABLE flow (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      name VARCHAR(100) NOT NULL,
      score TEXT,
      legacy TEXT,
      parent_id INTEGER REFERENCES flow (id) ON DELETE CASCADE
    );
    CREATE TABLE task_run (
      id INTEGER PRIMARY KEY,
      flow_id INTEGER NOT NULL REFERENCES flow (id) ON DELETE CASCADE,
      name TEXT
    );
    CREATE TABLE log (
      id INTEGER PRIMARY KEY,
      flow_id INTEGER REFERENCES flow (id) ON DELETE CASCADE,
      msg TEXT
    );
    CREATE TABLE note (id INTEGER PRIMARY KEY, flow_id INTEGER, body TEXT);
    CREATE TABLE audit (flow_id INTEGER, what TEXT);
    CREATE INDEX ix_flow_child ON flow (name) WHERE parent_id IS NOT NULL;
    CREATE INDEX ix_flow_lower_name ON flow (lower(name));
    CREATE TRIGGER trg_flow_renamed AFTER UPDATE OF name ON flow
      BEGIN INSERT INTO audit (flow_id, what) VALUES (NEW.id, 'renamed'); END;
    CREATE VIEW v_flow AS SELECT id, name, score FROM flow;
  `);
  db.exec("BEGIN");
  const flow = db.prepare(
    "INSERT INTO flow (id, name, score, legacy, parent_id) VALUES (?, ?, ?, ?, ?)",
  );
  const task = db.prepare("INSERT INTO task_run (flow_id, name) VALUES (?, ?)");
  const log = db.prepare("INSERT INTO log (flow_id, msg) VALUES (?, ?)");
  for (let i = 1; i <= FLOWS + 1; i++) {
    flow.run(i, `flow ${i}`, String(i % 97), `legacy ${i}`, i > 1 && i % 3 === 0 ? i - 1 : null);
    if (i % 2 === 0) task.run(i, `task a ${i}`);
    if (i % 5 === 0) task.run(i, `task b ${i}`);
    if (i % 7 === 0) log.run(i, `log ${i}`);
  }
  db.prepare("INSERT INTO note (flow_id, body) VALUES (?, ?)").run(5, "fine");
  db.exec("COMMIT");
  // The highest id is gone, so AUTOINCREMENT's counter (10,001) is above max(id).
  db.exec(`DELETE FROM flow WHERE id = ${FLOWS + 1}`);
  db.exec("PRAGMA foreign_keys = OFF");
}

/** SHA-256 of a query's rows, in order. */
async function hashRows(db: DatabaseSync, query: string): Promise<string> {
  const text = JSON.stringify(db.prepare(query).all().map((row) => Object.values(row)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

const FLOW_CONTENT =
  "SELECT id, name, CAST(score AS TEXT) AS score, parent_id FROM flow ORDER BY id";
const TASK_CONTENT = "SELECT id, flow_id, name FROM task_run ORDER BY id";
const LOG_CONTENT = "SELECT id, flow_id, msg FROM log ORDER BY id";

/** A query's rows as plain objects (node:sqlite's have a null prototype). */
function rows(db: DatabaseSync, query: string): Record<string, unknown>[] {
  return db.prepare(query).all().map((row) => ({ ...row }));
}

function count(db: DatabaseSync, table: string): number {
  return Number((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
}

function plan(db: DatabaseSync, query: string): string {
  return db.prepare(`EXPLAIN QUERY PLAN ${query}`).all().map((row) => row.detail).join("; ");
}

Deno.test("sqlite batch rebuild keeps every row, index, trigger, view and the counter", async () => {
  const { db, cleanup } = await openDatabase();
  try {
    seed(db);
    const before = {
      flow: await hashRows(db, FLOW_CONTENT),
      task: await hashRows(db, TASK_CONTENT),
      log: await hashRows(db, LOG_CONTENT),
      counts: [count(db, "flow"), count(db, "task_run"), count(db, "log")],
    };
    assert.deepEqual(before.counts, [FLOWS, 7000, 1428]);

    db.exec("BEGIN IMMEDIATE");
    const executor = sqliteExecutor(db);
    const { op, t } = createMigrationContext(executor, "5952a5498b51");
    await op.batchAlterTable("flow", (b) => {
      b.alterColumn("score", { type: t.integer() });
      b.dropColumn("legacy");
      b.addColumn({
        name: "runs",
        type: t.integer(),
        nullable: false,
        default: 0,
        check: "runs >= 0",
      });
      b.createIndex("ix_flow_runs", ["runs"], { using: "btree" });
    });
    assert.deepEqual(rows(db, "PRAGMA foreign_key_check"), []);
    db.exec("COMMIT");

    assert.deepEqual(executor.statements, [
      "SAVEPOINT strata_batch",
      "DROP VIEW v_flow",
      "CREATE TABLE _strata_tmp_flow (id INTEGER PRIMARY KEY AUTOINCREMENT, " +
      "name VARCHAR(100) NOT NULL, score INTEGER, " +
      "parent_id INTEGER REFERENCES flow (id) ON DELETE CASCADE, " +
      "runs INTEGER NOT NULL DEFAULT 0 CHECK (runs >= 0))",
      "INSERT OR ABORT INTO _strata_tmp_flow (id, name, score, parent_id) " +
      "SELECT id, name, score, parent_id FROM flow",
      "DROP TABLE flow",
      "ALTER TABLE _strata_tmp_flow RENAME TO flow",
      "DELETE FROM sqlite_sequence WHERE name = 'flow'",
      "INSERT INTO sqlite_sequence (name, seq) VALUES ('flow', 10001)",
      "CREATE INDEX ix_flow_child ON flow (name) WHERE parent_id IS NOT NULL",
      "CREATE INDEX ix_flow_lower_name ON flow (lower(name))",
      "CREATE INDEX ix_flow_runs ON flow (runs)",
      "CREATE VIEW v_flow AS SELECT id, name, score FROM flow",
      "CREATE TRIGGER trg_flow_renamed AFTER UPDATE OF name ON flow\n" +
      "      BEGIN INSERT INTO audit (flow_id, what) VALUES (NEW.id, 'renamed'); END",
      "RELEASE strata_batch",
    ]);
    assert.deepEqual(executor.comments, ["using btree skipped on sqlite (ix_flow_runs)"]);

    // No row lost or changed, here or in the children.
    assert.deepEqual(
      [count(db, "flow"), count(db, "task_run"), count(db, "log")],
      before.counts,
    );
    assert.equal(await hashRows(db, FLOW_CONTENT), before.flow);
    assert.equal(await hashRows(db, TASK_CONTENT), before.task);
    assert.equal(await hashRows(db, LOG_CONTENT), before.log);
    assert.deepEqual({ ...db.prepare("SELECT typeof(score) AS t FROM flow WHERE id = 5").get() }, {
      t: "integer",
    });
    assert.deepEqual(rows(db, "PRAGMA foreign_key_check"), []);
    assert.deepEqual(db.prepare("PRAGMA integrity_check").get()!.integrity_check, "ok");
    const columns = rows(db, "SELECT name FROM pragma_table_info('flow')").map((r) => r.name);
    assert.deepEqual(columns, ["id", "name", "score", "parent_id", "runs"]);
    assert.equal(
      db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name LIKE '_strata_tmp_%'").get()!
        .n,
      0,
    );

    // Indexes are there and used.
    assert.match(
      plan(db, "SELECT id FROM flow WHERE lower(name) = 'flow 9'"),
      /ix_flow_lower_name/,
    );
    assert.match(
      plan(db, "SELECT id FROM flow WHERE name = 'flow 9' AND parent_id IS NOT NULL"),
      /ix_flow_child/,
    );
    // The view and the trigger work.
    assert.equal(count(db, "v_flow"), FLOWS);
    db.exec("UPDATE flow SET name = 'renamed' WHERE id = 7");
    assert.deepEqual(rows(db, "SELECT flow_id, what FROM audit"), [
      { flow_id: 7, what: "renamed" },
    ]);
    // The new column's CHECK holds; AUTOINCREMENT does not hand out the deleted id again.
    assert.throws(() => db.exec("UPDATE flow SET runs = -1 WHERE id = 1"), /CHECK constraint/);
    db.exec("INSERT INTO flow (name) VALUES ('new')");
    assert.equal(db.prepare("SELECT max(id) AS id FROM flow").get()!.id, FLOWS + 2);
    assert.deepEqual(rows(db, "SELECT name, seq FROM sqlite_sequence"), [
      { name: "flow", seq: FLOWS + 2 },
    ]);
    // Foreign keys still point at the rebuilt table and cascade.
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("DELETE FROM flow WHERE id = 10");
    assert.equal(
      db.prepare("SELECT count(*) AS n FROM task_run WHERE flow_id = 10").get()!.n,
      0,
    );
  } finally {
    await cleanup();
  }
});

Deno.test("sqlite rebuild that orphans child rows is detected, listed and rolled back", async () => {
  const { db, cleanup } = await openDatabase();
  try {
    seed(db);
    const before = await hashRows(db, FLOW_CONTENT);
    const flowSql = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'flow'").get()!.sql;
    db.exec("BEGIN IMMEDIATE");
    const { op } = createMigrationContext(sqliteExecutor(db), "badbadbadbad");
    const error = await op.batchAlterTable("flow", (b) => {
      // Every parent id moves: the children no longer find their parent.
      b.alterColumn("id", { using: "id + 1000000" });
    }).then(() => undefined, (e) => e);
    assert.ok(error instanceof ForeignKeyViolationError, String(error));
    assert.equal(error.table, "flow");
    const byTable = Map.groupBy(error.violations, (v) => v.table);
    assert.equal(byTable.get("task_run")?.length, 7000);
    assert.equal(byTable.get("log")?.length, 1428);
    assert.equal(byTable.get("flow")?.length, 3333); // self-references
    assert.ok(error.violations.every((v) => v.parent === "flow"));
    assert.match(
      error.message,
      /^Cannot rebuild table flow: 11761 row\(s\) violate foreign keys \(flow rowid 1000003 -> flow, .*, and 11751 more\); fix the rows or the constraint, then run the migration again$/,
    );
    db.exec("ROLLBACK");
    assert.equal(await hashRows(db, FLOW_CONTENT), before);
    assert.equal(
      db.prepare("SELECT sql FROM sqlite_master WHERE name = 'flow'").get()!.sql,
      flowSql,
    );
    assert.deepEqual(rows(db, "PRAGMA foreign_key_check"), []);
  } finally {
    await cleanup();
  }
});

Deno.test("sqlite batch adding a foreign key that existing rows break is refused", async () => {
  const { db, cleanup } = await openDatabase();
  try {
    seed(db);
    db.exec("INSERT INTO note (flow_id, body) VALUES (999999, 'orphan')");
    db.exec("BEGIN IMMEDIATE");
    const { op } = createMigrationContext(sqliteExecutor(db), "abcdefabcdef");
    await assert.rejects(
      op.batchAlterTable("note", (b) =>
        b.createForeignKey({
          name: "fk_note_flow",
          columns: ["flow_id"],
          refTable: "flow",
          refColumns: ["id"],
        })),
      (e: unknown) =>
        e instanceof ForeignKeyViolationError &&
        e.violations.length === 1 && e.violations[0].table === "note" &&
        e.violations[0].rowid === 2,
    );
    db.exec("ROLLBACK");
    assert.equal(count(db, "note"), 2);
  } finally {
    await cleanup();
  }
});

Deno.test("sqlite batch rename runs natively first, carrying indexes, views and triggers", async () => {
  const { db, cleanup } = await openDatabase();
  try {
    seed(db);
    db.exec("BEGIN IMMEDIATE");
    const executor = sqliteExecutor(db);
    const { op, t } = createMigrationContext(executor, "aaaaaaaaaaaa");
    await op.batchAlterTable("flow", (b) => {
      b.alterColumn("name", { newName: "title", type: t.varchar(200) });
      b.dropIndex("ix_flow_child");
    });
    db.exec("COMMIT");
    assert.deepEqual(executor.statements.slice(0, 2), [
      "SAVEPOINT strata_batch",
      "ALTER TABLE flow RENAME COLUMN name TO title",
    ]);
    const schema = db.prepare(
      "SELECT name, sql FROM sqlite_master WHERE name IN ('ix_flow_lower_name', 'v_flow', " +
        "'ix_flow_child', 'flow')",
    ).all();
    assert.deepEqual(schema.map((row) => row.name).sort(), [
      "flow",
      "ix_flow_lower_name",
      "v_flow",
    ]);
    assert.match(
      String(schema.find((r) => r.name === "flow")!.sql),
      / title VARCHAR\(200\) NOT NULL/,
    );
    assert.match(
      String(schema.find((r) => r.name === "ix_flow_lower_name")!.sql),
      /lower\(title\)/,
    );
    assert.equal(count(db, "v_flow"), FLOWS);
    db.exec("UPDATE flow SET title = 'x' WHERE id = 3");
    assert.equal(count(db, "audit"), 1);
  } finally {
    await cleanup();
  }
});

Deno.test("sqlite native operations run directly; others say to use batchAlterTable", async () => {
  const db = new DatabaseSync(":memory:");
  const executor = sqliteExecutor(db);
  const { op, t, sql } = createMigrationContext(executor, "bbbbbbbbbbbb");
  await op.createEnum("state_type", ["PENDING", "DONE"]);
  await op.createTable("run", [
    { name: "id", type: t.uuid(), primaryKey: true },
    { name: "state", type: t.enum("state_type", ["PENDING", "DONE"]), nullable: false },
  ]);
  await op.addColumn("run", { name: "labels", type: t.jsonb() });
  await op.createIndex("ix_run_labels", "run", ["labels"], { using: "gin" });
  await op.bulkInsert("run", [{ id: "a", state: "DONE", labels: { x: 1 } }]);
  await op.execute("UPDATE run SET state = $1 WHERE id = $2", ["PENDING", "a"]);
  assert.deepEqual(await sql`SELECT id, state, labels FROM run WHERE id = ${"a"}`, [
    { id: "a", state: "PENDING", labels: '{"x":1}' },
  ]);
  assert.throws(() => db.exec("INSERT INTO run (id, state) VALUES ('b', 'NOPE')"), /CHECK/);
  assert.deepEqual(executor.comments, [
    "enum state_type: nothing to create on sqlite (a CHECK on each column)",
    "using gin skipped on sqlite (ix_run_labels)",
  ]);
  await assert.rejects(
    op.alterColumn("run", "state", { nullable: true }),
    UnsupportedOperationError,
  );
  await assert.rejects(
    op.addEnumValue("state_type", "FAILED"),
    /Cannot add value 'FAILED' to enum state_type on sqlite/,
  );
  await assert.rejects(op.dropColumn("run", "labels"), {
    name: "UnsupportedOperationError",
    message: "Cannot drop column run.labels: SQLite's ALTER TABLE refused (error in index " +
      "ix_run_labels after drop column: no such column: labels); use " +
      'op.batchAlterTable("run", (b) => b.dropColumn("labels")) to rebuild the table without it',
  });
  await op.batchAlterTable("run", (b) => b.dropColumn("labels"));
  assert.deepEqual(await sql`SELECT name FROM sqlite_master WHERE type = 'index'`, [
    { name: "sqlite_autoindex_run_1" },
  ]);
  assert.deepEqual(
    (await sql.unsafe("SELECT name FROM pragma_table_info('run')")).map((r) => r.name),
    ["id", "state"],
  );
  db.close();
});

Deno.test("sqlite rebuild refuses to run while foreign keys are enforced", async () => {
  const { db, cleanup } = await openDatabase();
  try {
    seed(db);
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("BEGIN IMMEDIATE");
    const { op } = createMigrationContext(sqliteExecutor(db), "cccccccccccc");
    await assert.rejects(op.batchAlterTable("flow", (b) => b.dropColumn("legacy")), {
      message: "Cannot rebuild table flow: foreign keys are enforced and flow, task_run, log " +
        "reference it, so dropping the old table would delete or reject their rows; run with " +
        "PRAGMA foreign_keys = OFF (set before BEGIN; the runner does this)",
    });
    db.exec("ROLLBACK");
    assert.equal(count(db, "task_run"), 7000);
  } finally {
    await cleanup();
  }
});
