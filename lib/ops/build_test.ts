import assert from "node:assert/strict";
import { createTypeBuilder, operation } from "./build.ts";

Deno.test("type builder: plain frozen data", () => {
  const t = createTypeBuilder();
  assert.deepEqual(t.varchar(255), { type: "varchar", length: 255 });
  assert.deepEqual(t.varchar(), { type: "varchar" });
  assert.deepEqual(t.numeric(10), { type: "numeric", precision: 10 });
  assert.deepEqual(t.timestamp(), { type: "timestamp", withTimeZone: false });
  assert.deepEqual(t.timestamp({ withTimeZone: true }), { type: "timestamp", withTimeZone: true });
  assert.deepEqual(t.enum("s", ["a"]), { type: "enum", name: "s", values: ["a"] });
  assert.ok(Object.isFrozen(t.enum("s", ["a"]).type === "enum" && t.enum("s", ["a"])));
});

Deno.test("operations are deeply frozen copies", () => {
  const columns = [{ name: "id", type: { type: "integer" as const } }];
  const op = operation.createTable("flow", columns);
  columns[0].name = "changed";
  assert.deepEqual(op, {
    kind: "createTable",
    table: "flow",
    columns: [{ name: "id", type: { type: "integer" } }],
    options: {},
  });
  assert.ok(Object.isFrozen(op));
  assert.ok(op.kind === "createTable" && Object.isFrozen(op.columns[0].type));
  assert.deepEqual(operation.dropIndex("ix"), { kind: "dropIndex", name: "ix" });
  const bytes = new Uint8Array([1]);
  const insert = operation.bulkInsert("t", [{ b: bytes }]);
  assert.ok(insert.kind === "bulkInsert" && insert.rows[0].b === bytes);
});
