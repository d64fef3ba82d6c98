import assert from "node:assert/strict";
import { definitionToModel, SchemaDefinitionError, type SchemaFunction } from "./schema.ts";

const schema: SchemaFunction = ({ t, table, sql }) => ({
  tables: [table("flow", {
    columns: [
      { name: "id", type: t.uuid(), primaryKey: true },
      {
        name: "created",
        type: t.timestamp({ withTimeZone: true }),
        default: { sqlite: sql("CURRENT_TIMESTAMP"), postgresql: sql("now()") },
      },
      { name: "name", type: t.text(), unique: true, collate: { sqlite: "NOCASE" } },
      { name: "state", type: t.enum("state_type", ["A", "B"]) },
      { name: "pg_only", type: t.jsonb(), dialects: ["postgresql"] },
    ],
    indexes: [
      { name: "ix_name", columns: ["name"], include: ["state"] },
      { name: "trgm_ix_name", columns: ["name"], opclass: { name: "gin_trgm_ops" } },
    ],
  })],
});

Deno.test("definitionToModel picks each dialect's parts", () => {
  const sqlite = definitionToModel(schema, "sqlite");
  const pg = definitionToModel(schema, "postgresql");
  const [s] = sqlite.tables;
  const [p] = pg.tables;
  assert.deepEqual(s.columns.map((c) => c.name), ["id", "created", "name", "state"]);
  assert.deepEqual(p.columns.map((c) => c.name), ["id", "created", "name", "state", "pg_only"]);
  assert.deepEqual(s.columns[1].default, { raw: "CURRENT_TIMESTAMP" });
  assert.deepEqual(p.columns[1].default, { raw: "now()" });
  assert.equal(s.columns[2].collation, "NOCASE");
  assert.equal(p.columns[2].collation, undefined);
  assert.deepEqual(s.indexes.map((i) => [i.name, i.include]), [["ix_name", []]]);
  assert.deepEqual(p.indexes.map((i) => i.name), ["ix_name", "trgm_ix_name"]);
  assert.deepEqual(sqlite.enums, []);
  assert.deepEqual(pg.enums, [{ name: "state_type", values: ["A", "B"] }]);
  // Unnamed constraints get the names they will have in each dialect.
  assert.deepEqual(s.uniques, [{ columns: ["name"], name: "uq_flow_name" }]);
  assert.deepEqual(p.uniques, [{ columns: ["name"], name: "flow_name_key" }]);
  assert.deepEqual(p.primaryKey, { columns: ["id"] });
  assert.equal(p.columns[0].nullable, false);
});

Deno.test("definitionToModel refuses an enum defined twice with other values", () => {
  assert.throws(
    () =>
      definitionToModel(({ t, table }) => ({
        tables: [table("a", {
          columns: [
            { name: "x", type: t.enum("e", ["1"]) },
            { name: "y", type: t.enum("e", ["2"]) },
          ],
        })],
      }), "postgresql"),
    SchemaDefinitionError,
  );
});

Deno.test("a module's default export loads", () => {
  const model = definitionToModel({ default: schema }, "sqlite");
  assert.equal(model.tables[0].name, "flow");
  assert.throws(() => definitionToModel({ default: 3 }, "sqlite"), TypeError);
});

Deno.test("definitionToModel refuses PostgreSQL names longer than 63 bytes", () => {
  const long = "c".repeat(64);
  const definition: SchemaFunction = ({ t, table }) => ({
    tables: [table("p", { columns: [{ name: long, type: t.integer(), unique: true }] })],
  });
  assert.throws(
    () => definitionToModel(definition, "postgresql"),
    (e: unknown) => e instanceof SchemaDefinitionError && /at most 63 bytes/.test(e.message),
  );
  // SQLite has no such limit.
  assert.equal(definitionToModel(definition, "sqlite").tables[0].columns[0].name, long);
  // 63 bytes of two-byte characters is fewer characters.
  const accented: SchemaFunction = ({ t, table }) => ({
    tables: [table("p", { columns: [{ name: "é".repeat(32), type: t.integer() }] })],
  });
  assert.throws(() => definitionToModel(accented, "postgresql"), SchemaDefinitionError);
});
