import assert from "node:assert/strict";
import { renderMigration, renderOperations, renderTypeCall } from "./render.ts";

Deno.test("renderTypeCall writes the t builder calls", () => {
  const cases: [Parameters<typeof renderTypeCall>[0], string][] = [
    [{ type: "varchar", length: 255 }, "t.varchar(255)"],
    [{ type: "varchar" }, "t.varchar()"],
    [{ type: "numeric", precision: 10, scale: 2 }, "t.numeric(10, 2)"],
    [{ type: "timestamp", withTimeZone: true }, "t.timestamp({ withTimeZone: true })"],
    [{ type: "enum", name: "s", values: ["a", "b"] }, 't.enum("s", ["a", "b"])'],
    [{ type: "raw", sql: "REAL" }, 't.raw("REAL")'],
    [{ type: "uuid" }, "t.uuid()"],
  ];
  for (const [type, expected] of cases) assert.equal(renderTypeCall(type), expected);
});

Deno.test("renderOperations writes batches as batchAlterTable", () => {
  assert.deepEqual(
    renderOperations([{
      kind: "batch",
      table: "flow",
      operations: [
        { kind: "alterColumn", table: "flow", column: "name", changes: { nullable: false } },
        { kind: "dropConstraint", table: "flow", name: "uq_flow_name" },
      ],
    }], 1),
    [
      '  await op.batchAlterTable("flow", (b) => {',
      '    b.alterColumn("name", { nullable: false });',
      '    b.dropConstraint("uq_flow_name");',
      "  });",
    ],
  );
});

Deno.test("renderMigration with a type import and no changes", () => {
  const source = renderMigration([], [], {
    revision: "abc",
    downRevision: ["d1", "d2"],
    message: "Merge",
    createDate: new Date("2026-01-01T00:00:00Z"),
    typeImport: "jsr:@strata/strata",
  });
  assert.match(source, /^\/\*\*\n \* Merge\n/);
  assert.match(source, /import type \{ MigrationContext \} from "jsr:@strata\/strata";/);
  assert.match(source, /export const downRevision: string \| string\[\] \| null = \["d1", "d2"\];/);
  assert.ok(
    source.includes(
      "export function upgrade(_context: MigrationContext): void {\n  // No changes.\n}",
    ),
  );
});
