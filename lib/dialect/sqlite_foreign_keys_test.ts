import assert from "node:assert/strict";
import { renameTarget, statementTarget, triggerTable } from "./sqlite_foreign_keys.ts";

Deno.test("statementTarget: which table a statement writes or alters", () => {
  const cases: [string, ReturnType<typeof statementTarget>][] = [
    ["INSERT INTO flow (id) VALUES (1)", { kind: "table", table: "flow" }],
    ['insert or replace into "Flow Run" values (1)', { kind: "table", table: "Flow Run" }],
    ["REPLACE INTO main.flow VALUES (1)", { kind: "table", table: "flow" }],
    ["UPDATE OR IGNORE flow_run SET x = 1", { kind: "table", table: "flow_run" }],
    ["DELETE FROM [task run] WHERE 1", { kind: "table", table: "task run" }],
    ["-- backfill\n/* note */ UPDATE `log` SET a = 1", { kind: "table", table: "log" }],
    // May meet an existing table with rows: a write, never a new table.
    ["CREATE TABLE IF NOT EXISTS t2 (id INTEGER)", { kind: "table", table: "t2" }],
    ["CREATE TABLE t3 (id INTEGER)", { kind: "table", table: "t3", creates: true }],
    ["CREATE TEMP TABLE parent (id INTEGER)", { kind: "none" }],
    ["DELETE FROM temp.scratch", { kind: "none" }],
    ["DELETE FROM other_db.t", { kind: "unknown" }],
    ['DELETE FROM "acct.parent" WHERE id = 2', { kind: "table", table: "acct.parent" }],
    ["DELETE FROM [acct.parent] WHERE id = 2", { kind: "table", table: "acct.parent" }],
    ['UPDATE "main"."a ""b""" SET x = 1', { kind: "table", table: 'a "b"' }],
    ["DELETE FROM categoría WHERE id = 2", { kind: "table", table: "categoría" }],
    ["DROP INDEX IF EXISTS ux_code", { kind: "index", index: "ux_code" }],
    ["ALTER TABLE _strata_tmp_flow RENAME TO flow", { kind: "table", table: "_strata_tmp_flow" }],
    ["DROP TABLE IF EXISTS old", { kind: "table", table: "old" }],
    ["SELECT * FROM flow", { kind: "none" }],
    ["PRAGMA foreign_key_check", { kind: "none" }],
    ["CREATE UNIQUE INDEX ix ON flow (name)", { kind: "none" }],
    ["CREATE TRIGGER tr AFTER INSERT ON flow BEGIN SELECT 1; END", { kind: "none" }],
    ["BEGIN IMMEDIATE", { kind: "none" }],
    ["WITH x AS (SELECT 1) UPDATE flow SET a = 1", { kind: "unknown" }],
    ["VALUES (1)", { kind: "unknown" }],
  ];
  for (const [sql, expected] of cases) assert.deepEqual(statementTarget(sql), expected, sql);
});

Deno.test("triggerTable: the table a CREATE TRIGGER attaches to", () => {
  assert.equal(triggerTable("CREATE TRIGGER t AFTER INSERT ON audit BEGIN SELECT 1; END"), "audit");
  assert.equal(
    triggerTable('create temp trigger if not exists x before update of a on "Log" begin end'),
    "Log",
  );
  assert.equal(triggerTable("CREATE TABLE on_call (id INTEGER)"), null);
  assert.equal(
    triggerTable('CREATE TRIGGER "purge on insert" AFTER INSERT ON audit BEGIN SELECT 1; END'),
    "audit",
  );
  assert.equal(
    triggerTable('CREATE TRIGGER t AFTER UPDATE OF "x on y", b ON main.[Log] BEGIN SELECT 1; END'),
    "Log",
  );
  assert.equal(triggerTable("CREATE TRIGGER broken"), undefined);
});

Deno.test("renameTarget: the new name of a renamed table, not of a renamed column", () => {
  assert.equal(renameTarget("ALTER TABLE _strata_tmp_flow RENAME TO flow"), "flow");
  assert.equal(renameTarget('alter table "a b" rename to "C d"'), "C d");
  assert.equal(renameTarget("ALTER TABLE flow RENAME COLUMN a TO b"), null);
  assert.equal(renameTarget("ALTER TABLE flow ADD COLUMN x INTEGER"), null);
  assert.equal(renameTarget('ALTER TABLE "a.b" RENAME TO "c.d"'), "c.d");
});
