import assert from "node:assert/strict";
import type { Executor, Row } from "./executor.ts";
import { createMigrationContext } from "./context.ts";

function recorder(dialect: "sqlite" | "postgresql") {
  const calls: { kind: string; sql: string; params?: readonly unknown[] }[] = [];
  const executor: Executor = {
    dialect,
    inTransaction: true,
    dryRun: true,
    run(sql, params) {
      calls.push({ kind: "run", sql, params });
      return Promise.resolve();
    },
    query<T extends Row = Row>(sql: string, params?: readonly unknown[]) {
      calls.push({ kind: "query", sql, params });
      return Promise.resolve([] as T[]);
    },
    comment(text) {
      calls.push({ kind: "comment", sql: text });
    },
  };
  return { executor, calls };
}

Deno.test("context: sql tag numbers parameters, sql.unsafe passes them", async () => {
  const { executor, calls } = recorder("postgresql");
  const { sql, dialect, revision, dryRun } = createMigrationContext(executor, "abc123abc123");
  assert.deepEqual([dialect, revision, dryRun], ["postgresql", "abc123abc123", true]);
  await sql`SELECT id FROM flow WHERE name = ${"x"} AND n > ${3}`;
  await sql.unsafe("SELECT $1::int", [1]);
  assert.deepEqual(calls, [
    { kind: "query", sql: "SELECT id FROM flow WHERE name = $1 AND n > $2", params: ["x", 3] },
    { kind: "query", sql: "SELECT $1::int", params: [1] },
  ]);
});

Deno.test("context: op renders for the executor's dialect and runs in order", async () => {
  const { executor, calls } = recorder("sqlite");
  const { op, t } = createMigrationContext(executor, "abc123abc123");
  await op.createIndex("ix", "flow", ["tags"], { using: "gin" });
  await op.execute("UPDATE flow SET a = $1", [1]);
  await op.batchAlterTable("flow", (b) => b.addColumn({ name: "x", type: t.text() }));
  assert.deepEqual(calls, [
    { kind: "comment", sql: "using gin skipped on sqlite (ix)" },
    { kind: "run", sql: "CREATE INDEX ix ON flow (tags)", params: undefined },
    { kind: "run", sql: "UPDATE flow SET a = $1", params: [1] },
    { kind: "run", sql: "ALTER TABLE flow ADD COLUMN x TEXT", params: undefined },
  ]);
});

Deno.test("context: a batch callback must be synchronous", () => {
  const { executor } = recorder("sqlite");
  const { op } = createMigrationContext(executor, "abc123abc123");
  assert.throws(
    () => op.batchAlterTable("flow", (async () => {}) as unknown as () => void),
    /^TypeError: Cannot collect batchAlterTable\("flow"\): its callback returned a promise/,
  );
});
