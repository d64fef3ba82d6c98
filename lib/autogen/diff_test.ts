import assert from "node:assert/strict";
import { diffModels } from "./diff.ts";
import { definitionToModel } from "./schema.ts";

Deno.test("diff: enum values added ahead of every existing one keep their order", () => {
  const current = {
    dialect: "postgresql" as const,
    tables: [],
    enums: [{ name: "e", values: ["c"] }],
  };
  const target = {
    dialect: "postgresql" as const,
    tables: [],
    enums: [{ name: "e", values: ["a", "b", "c", "d"] }],
  };
  const { operations } = diffModels(current, target);
  // Applied in order, each anchor exists when its value is added: a, b before c; d after c.
  assert.deepEqual(operations, [
    { kind: "addEnumValue", name: "e", value: "a", before: "c", ifNotExists: true },
    { kind: "addEnumValue", name: "e", value: "b", before: "c", ifNotExists: true },
    { kind: "addEnumValue", name: "e", value: "d", after: "c", ifNotExists: true },
  ]);
});

Deno.test("diff: numeric(p) and numeric(p,0) are one PostgreSQL type", () => {
  const model = (scale?: number) =>
    definitionToModel(({ t, table }) => ({
      tables: [table("m", { columns: [{ name: "n", type: t.numeric(10, scale) }] })],
    }), "postgresql");
  assert.deepEqual(diffModels(model(0), model()).operations, []);
  assert.equal(diffModels(model(2), model()).operations.length, 1, "a real scale still differs");
});
