import assert from "node:assert/strict";
import type { Operation } from "./operations.ts";
import { createTypeBuilder, operation as o } from "./build.ts";
import { IrreversibleOperationError } from "./errors.ts";
import { type PriorState, reverseOperation } from "./reverse.ts";

const t = createTypeBuilder();
const labels = { name: "labels", type: t.jsonb(), nullable: false, default: "{}" } as const;

const REVERSIBLE: readonly { op: Operation; prior?: PriorState; reverse: Operation }[] = [
  { op: o.createTable("flow", [labels]), reverse: o.dropTable("flow") },
  {
    op: o.dropTable("flow"),
    prior: { table: { columns: [labels], options: { ifNotExists: true } } },
    reverse: o.createTable("flow", [labels], { ifNotExists: true }),
  },
  { op: o.renameTable("flow", "flows"), reverse: o.renameTable("flows", "flow") },
  { op: o.addColumn("flow", labels), reverse: o.dropColumn("flow", "labels") },
  {
    op: o.dropColumn("flow", "labels"),
    prior: { columns: { labels } },
    reverse: o.addColumn("flow", labels),
  },
  {
    op: o.alterColumn("flow", "nm", { newName: "name" }),
    reverse: o.alterColumn("flow", "name", { newName: "nm" }),
  },
  {
    op: o.alterColumn("flow", "labels", { type: t.json(), nullable: true, newName: "tags" }),
    prior: { table: { columns: [labels] } },
    reverse: o.alterColumn("flow", "tags", { newName: "labels", type: t.jsonb(), nullable: false }),
  },
  {
    op: o.alterColumn("flow", "n", { default: 5 }),
    prior: { columns: { n: { name: "n", type: t.integer() } } },
    reverse: o.alterColumn("flow", "n", { default: null }),
  },
  {
    op: o.createUnique("flow", { name: "uq", columns: ["a"] }),
    reverse: o.dropConstraint("flow", "uq"),
  },
  {
    op: o.dropConstraint("flow", "uq"),
    prior: { constraints: { uq: o.createUnique("flow", { name: "uq", columns: ["a"] }) } },
    reverse: o.createUnique("flow", { name: "uq", columns: ["a"] }),
  },
  {
    op: o.createIndex("ix", "flow", ["a"], { concurrently: true, where: "a > 0" }),
    reverse: o.dropIndex("ix", { table: "flow", concurrently: true }),
  },
  {
    op: o.dropIndex("ix"),
    prior: { indexes: { ix: { table: "flow", columns: ["a"], options: { unique: true } } } },
    reverse: o.createIndex("ix", "flow", ["a"], { unique: true }),
  },
  { op: o.createEnum("e", ["a", "b"]), reverse: o.dropEnum("e") },
  {
    op: o.dropEnum("e"),
    prior: { enums: { e: ["a", "b"] } },
    reverse: o.createEnum("e", ["a", "b"]),
  },
  {
    op: o.batch("flow", [
      o.addColumn("flow", labels),
      o.alterColumn("flow", "a", { newName: "b" }),
    ]),
    reverse: o.batch("flow", [
      o.alterColumn("flow", "b", { newName: "a" }),
      o.dropColumn("flow", "labels"),
    ]),
  },
];

for (const { op, prior, reverse } of REVERSIBLE) {
  Deno.test(`reverseOperation: ${op.kind} ${JSON.stringify(op).slice(0, 60)}`, () => {
    assert.deepEqual(reverseOperation(op, prior), reverse);
  });
}

const IRREVERSIBLE: readonly { op: Operation; message: string }[] = [
  {
    op: o.dropColumn("flow", "labels"),
    message: "Cannot reverse dropColumn: the definition of column flow.labels is unknown; pass " +
      'it as prior.columns["labels"]',
  },
  {
    op: o.dropTable("flow"),
    message: "Cannot reverse dropTable: the definition of table flow is unknown; pass it as " +
      "prior.table",
  },
  {
    op: o.alterColumn("flow", "n", { type: t.bigint(), nullable: false }),
    message: "Cannot reverse alterColumn: the previous type, nullable of column flow.n is " +
      'unknown; pass its definition as prior.columns["n"]',
  },
  {
    op: o.createCheck("flow", { expression: "a > 0" }),
    message: "Cannot reverse createCheck: the constraint on flow has no name to drop it by; " +
      "give it one",
  },
  {
    op: o.addEnumValue("e", "c"),
    message: "Cannot reverse addEnumValue: PostgreSQL cannot remove value 'c' from enum e; " +
      "recreate the type in the downgrade instead",
  },
  {
    op: o.execute("UPDATE flow SET a = 1"),
    message: "Cannot reverse execute: raw SQL has no known reverse; write the downgrade SQL",
  },
];

for (const { op, message } of IRREVERSIBLE) {
  Deno.test(`reverseOperation refuses: ${op.kind}`, () => {
    assert.throws(() => reverseOperation(op), (error: unknown) => {
      assert.ok(error instanceof IrreversibleOperationError);
      assert.equal(error.message, message);
      assert.equal(error.operation, op.kind);
      return true;
    });
  });
}
