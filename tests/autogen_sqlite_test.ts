/**
 * Autogenerate on real SQLite: build a database with raw SQL, define a target, diff, assert the
 * operations, then round-trip them: apply the upgrade, introspect, find no difference with the
 * definition, apply the downgrade, and find the schema exactly as it was.
 */

import assert from "node:assert/strict";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { openSqlite } from "../lib/db/sqlite.ts";
import type { Connection } from "../lib/db/connection.ts";
import type { Operation } from "../lib/ops/operations.ts";
import { createMigrationContext } from "../lib/ops/context.ts";
import { autogenerate, compare, dumpSchema } from "../lib/autogen/autogenerate.ts";
import { introspectSqlite } from "../lib/autogen/introspect_sqlite.ts";
import { diffModels } from "../lib/autogen/diff.ts";
import { definitionToModel, type SchemaFunction } from "../lib/autogen/schema.ts";
import {
  applyOperations as apply,
  connectionExecutor,
  ignoringColumnOrder,
  operationKinds as kinds,
  roundTripOn,
} from "./support/autogen.ts";
import { withTempDir } from "./support/tmp.ts";

async function withDb<T>(setup: string, fn: (c: Connection) => Promise<T>): Promise<T> {
  const connection = openSqlite(":memory:");
  try {
    // As the runner does: foreign keys off while tables are rebuilt.
    await connection.execute("PRAGMA foreign_keys = OFF");
    if (setup) await connection.executeScript(setup);
    return await fn(connection);
  } finally {
    await connection.close();
  }
}

/** Upgrade, check no drift, downgrade, check the schema is back (on a fresh database). */
function roundTrip(setup: string, definition: SchemaFunction) {
  return withDb(setup, (connection) => roundTripOn(connection, definition));
}

const fullSchema: SchemaFunction = ({ t, table, sql }) => ({
  tables: [
    table("task_run", {
      columns: [
        { name: "id", type: t.uuid(), primaryKey: true },
        {
          name: "flow_run_id",
          type: t.uuid(),
          nullable: false,
          references: { table: "flow_run", column: "id", onDelete: "CASCADE" },
        },
        { name: "state", type: t.enum("state_type", ["PENDING", "RUNNING", "COMPLETED"]) },
        { name: "name", type: t.varchar(255), nullable: false, collate: { sqlite: "NOCASE" } },
      ],
      indexes: [
        { name: "ix_task_run_flow_run_id", columns: ["flow_run_id"] },
        { name: "ix_task_run_lower_name", columns: [{ expression: "lower(name)" }] },
        {
          name: "trgm_ix_task_run_name",
          columns: ["name"],
          using: "gin",
          opclass: { name: "gin_trgm_ops" },
        },
        { name: "ix_pg_only", columns: ["state"], dialects: ["postgresql"] },
      ],
    }),
    table("flow_run", {
      columns: [
        { name: "id", type: t.uuid(), primaryKey: true },
        {
          name: "flow_id",
          type: t.uuid(),
          nullable: false,
          references: { table: "flow", column: "id" },
        },
        {
          name: "created",
          type: t.timestamp({ withTimeZone: true }),
          nullable: false,
          default: sql("CURRENT_TIMESTAMP"),
        },
        { name: "tags", type: t.json(), nullable: false, default: "[]" },
        {
          name: "attempts",
          type: t.integer(),
          nullable: false,
          default: 0,
          check: "attempts >= 0",
        },
      ],
      indexes: [
        {
          name: "ix_flow_run_created",
          columns: ["created"],
          include: ["flow_id"],
          where: "attempts > 0",
        },
      ],
    }),
    table("flow", {
      columns: [
        { name: "id", type: t.uuid(), primaryKey: true },
        { name: "name", type: t.varchar(100), nullable: false, unique: true },
        { name: "seq", type: t.integer() },
      ],
    }),
  ],
});

Deno.test("sqlite: an empty database gets every table, parents first", async () => {
  const { upgrade, downgrade } = await roundTrip("", fullSchema);
  assert.deepEqual(kinds(upgrade), [
    "createTable flow",
    "createTable flow_run",
    "createIndex flow_run ix_flow_run_created",
    "createTable task_run",
    "createIndex task_run ix_task_run_flow_run_id",
    "createIndex task_run ix_task_run_lower_name",
  ]);
  assert.deepEqual(kinds(downgrade), [
    "dropTable task_run",
    "dropTable flow_run",
    "dropTable flow",
  ]);
  // INCLUDE is dropped from the SQLite model, so it is not a difference there.
  const index = upgrade[2] as Extract<Operation, { kind: "createIndex" }>;
  assert.deepEqual(index.options, { where: "attempts > 0" });
});

Deno.test("sqlite: a database written by hand that matches has no difference", async () => {
  await withDb(
    `CREATE TABLE flow (id CHAR(36) NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL UNIQUE, seq INTEGER);
     CREATE TABLE flow_run (id CHAR(36) NOT NULL PRIMARY KEY,
       flow_id CHAR(36) NOT NULL REFERENCES flow (id),
       created DATETIME NOT NULL DEFAULT (CURRENT_TIMESTAMP), tags JSON NOT NULL DEFAULT '[]',
       attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts>=0));
     CREATE INDEX ix_flow_run_created ON flow_run (created) WHERE (attempts > 0);
     CREATE TABLE task_run (id CHAR(36) PRIMARY KEY NOT NULL,
       flow_run_id CHAR(36) NOT NULL, state VARCHAR(9), name VARCHAR(255) NOT NULL COLLATE NOCASE,
       FOREIGN KEY (flow_run_id) REFERENCES flow_run (id) ON DELETE CASCADE,
       CHECK (state IN ('PENDING', 'RUNNING', 'COMPLETED')));
     CREATE INDEX ix_task_run_flow_run_id ON task_run (flow_run_id);
     CREATE INDEX ix_task_run_lower_name ON task_run (LOWER(name));
     CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
     CREATE TABLE strata_log (id INTEGER PRIMARY KEY);`,
    async (connection) => {
      const result = await compare({ connection, definition: fullSchema });
      assert.deepEqual(result.differences, []);
      assert.deepEqual(result.warnings, []);
      assert.equal(result.clean, true);
    },
  );
});

const baseSql = `
CREATE TABLE flow (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL, note TEXT,
  kind VARCHAR(10) DEFAULT 'a');
CREATE INDEX ix_flow_name ON flow (name);
INSERT INTO flow (id, name, note) VALUES (1, 'one', 'x'), (2, 'two', NULL);`;

Deno.test("sqlite: column changes are one batch; index changes run natively", async () => {
  const { upgrade } = await roundTrip(baseSql, ({ t, table }) => ({
    tables: [table("flow", {
      columns: [
        { name: "id", type: t.integer(), primaryKey: true },
        { name: "name", type: t.text(), nullable: true },
        { name: "kind", type: t.varchar(10), default: "b" },
        { name: "labels", type: t.json() },
      ],
      indexes: [{ name: "ix_flow_name", columns: ["name"], unique: true }],
    })],
  }));
  assert.deepEqual(kinds(upgrade), [
    "batch flow [dropIndex flow ix_flow_name, dropColumn flow.note, alterColumn flow.name, " +
    "alterColumn flow.kind, addColumn flow.labels, createIndex flow ix_flow_name]",
  ]);
});

Deno.test("sqlite: adding a nullable column and an index needs no rebuild", async () => {
  const { upgrade, downgrade } = await roundTrip(baseSql, ({ t, table }) => ({
    tables: [table("flow", {
      columns: [
        { name: "id", type: t.integer(), primaryKey: true },
        { name: "name", type: t.varchar(100), nullable: false },
        { name: "note", type: t.text() },
        { name: "kind", type: t.varchar(10), default: "a" },
        { name: "extra", type: t.integer(), default: 3 },
      ],
      indexes: [
        { name: "ix_flow_name", columns: ["name"] },
        { name: "ix_flow_note", columns: ["note"], where: "note IS NOT NULL" },
      ],
    })],
  }));
  assert.deepEqual(kinds(upgrade), ["addColumn flow.extra", "createIndex flow ix_flow_note"]);
  assert.deepEqual(kinds(downgrade), ["dropIndex flow ix_flow_note", "dropColumn flow.extra"]);
});

Deno.test("sqlite: constraints added to a table get names a downgrade can drop", async () => {
  const setup = `${baseSql}
    CREATE TABLE owner (id INTEGER PRIMARY KEY);
    CREATE TABLE pet (id INTEGER PRIMARY KEY, owner_id INTEGER, name TEXT);`;
  const { upgrade, downgrade } = await roundTrip(setup, ({ t, table }) => ({
    tables: [
      table("flow", {
        columns: [
          { name: "id", type: t.integer(), primaryKey: true },
          { name: "name", type: t.varchar(100), nullable: false },
          { name: "note", type: t.text() },
          { name: "kind", type: t.varchar(10), default: "a" },
        ],
        indexes: [{ name: "ix_flow_name", columns: ["name"] }],
      }),
      table("owner", { columns: [{ name: "id", type: t.integer(), primaryKey: true }] }),
      table("pet", {
        columns: [
          { name: "id", type: t.integer(), primaryKey: true },
          { name: "owner_id", type: t.integer(), references: { table: "owner", column: "id" } },
          { name: "name", type: t.text() },
        ],
        uniques: [{ columns: ["owner_id", "name"] }],
        checks: [{ expression: "length(name) > 0" }],
      }),
    ],
  }));
  assert.deepEqual(kinds(upgrade), [
    "batch pet [createUnique pet, createCheck pet, createForeignKey pet]",
  ]);
  const batch = upgrade[0] as Extract<Operation, { kind: "batch" }>;
  assert.deepEqual(
    batch.operations.map((op) => (op as { constraint?: { name?: string } }).constraint?.name),
    [
      "uq_pet_owner_id_name",
      "ck_pet_name",
      "fk_pet_owner_id_owner",
    ],
  );
  assert.deepEqual(kinds(downgrade), [
    "batch pet [dropConstraint pet fk_pet_owner_id_owner, dropConstraint pet uq_pet_owner_id_name, " +
    "dropConstraint pet ck_pet_name]",
  ]);
});

Deno.test("sqlite: an enum's new values change the column's CHECK in a rebuild", async () => {
  const { upgrade } = await roundTrip(
    `CREATE TABLE run (id INTEGER PRIMARY KEY, state VARCHAR(7) CHECK (state IN ('PENDING', 'RUNNING')));
     INSERT INTO run VALUES (1, 'PENDING');`,
    ({ t, table }) => ({
      tables: [table("run", {
        columns: [
          { name: "id", type: t.integer(), primaryKey: true },
          { name: "state", type: t.enum("state_type", ["PENDING", "RUNNING", "CANCELLED"]) },
        ],
      })],
    }),
  );
  assert.deepEqual(kinds(upgrade), ["batch run [alterColumn run.state]"]);
});

Deno.test("sqlite: an unnamed constraint cannot be dropped and says so", async () => {
  await withDb(
    "CREATE TABLE pet (id INTEGER PRIMARY KEY, name TEXT, CHECK (length(name) > 0))",
    async (connection) => {
      const result = await compare({
        connection,
        definition: ({ t, table }) => ({
          tables: [table("pet", {
            columns: [
              { name: "id", type: t.integer(), primaryKey: true },
              { name: "name", type: t.text() },
            ],
          })],
        }),
      });
      assert.equal(result.clean, false);
      assert.match(result.warnings[0], /Cannot drop the unnamed CHECK \(length\(name\) > 0\)/);
    },
  );
});

Deno.test("sqlite: dropping tables goes children first; includeObject leaves tables out", async () => {
  await withDb(
    `CREATE TABLE a (id INTEGER PRIMARY KEY);
     CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));
     CREATE TABLE c (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b (id));
     CREATE TABLE legacy (id INTEGER PRIMARY KEY);`,
    async (connection) => {
      const generated = await autogenerate({
        connection,
        definition: { tables: [] },
        options: { includeObject: (_o, name, kind) => !(kind === "table" && name === "legacy") },
      });
      assert.deepEqual(kinds(generated.upgrade), ["dropTable c", "dropTable b", "dropTable a"]);
      assert.deepEqual(kinds(generated.downgrade), [
        "createTable a",
        "createTable b",
        "createTable c",
      ]);
    },
  );
});

Deno.test("sqlite: the rendered migration file runs both ways", async () => {
  await withTempDir(async (dir) => {
    await withDb(baseSql, async (connection) => {
      const before = await introspectSqlite(connection);
      const definition: SchemaFunction = ({ t, table }) => ({
        tables: [
          table("flow", {
            columns: [
              { name: "id", type: t.integer(), primaryKey: true },
              { name: "name", type: t.varchar(200), nullable: false },
              { name: "kind", type: t.enum("kind", ["a", "b"]), default: "a" },
            ],
            indexes: [{ name: "ix_flow_name", columns: ["name"] }],
          }),
          table("tag", {
            columns: [
              { name: "id", type: t.integer(), primaryKey: true, autoincrement: true },
              { name: "flow_id", type: t.integer(), references: { table: "flow", column: "id" } },
              { name: "value", type: t.numeric(10, 2), nullable: false, default: 0 },
            ],
          }),
        ],
      });
      const generated = await autogenerate({ connection, definition });
      const source = generated.source("aaaaaaaaaaaa", null, "Change flow\nand add tag", {
        createDate: new Date("2026-01-02T03:04:05Z"),
      });
      const file = path.join(dir, "2026_01_02_030405_aaaaaaaaaaaa_change_flow.ts");
      await Deno.writeTextFile(file, source);
      const check = new Deno.Command(Deno.execPath(), { args: ["check", "-q", file] }).outputSync();
      assert.equal(check.code, 0, new TextDecoder().decode(check.stderr));
      const fmt = new Deno.Command(Deno.execPath(), {
        args: ["fmt", "--check", "-q", "--line-width=100", file],
      })
        .outputSync();
      assert.equal(fmt.code, 0, `${new TextDecoder().decode(fmt.stderr)}\n${source}`);
      const module = await import(pathToFileURL(file).href);
      assert.equal(module.revision, "aaaaaaaaaaaa");
      assert.equal(module.downRevision, null);
      const context = createMigrationContext(connectionExecutor(connection), module.revision);
      await module.upgrade(context);
      assert.deepEqual((await compare({ connection, definition })).differences, []);
      await module.downgrade(context);
      assert.deepEqual(
        ignoringColumnOrder(await introspectSqlite(connection)),
        ignoringColumnOrder(before),
      );
    });
  });
});

Deno.test("sqlite: schema dump is stable text and JSON", async () => {
  await withDb(
    `CREATE TABLE b (id INTEGER PRIMARY KEY, s VARCHAR(1) CHECK (s IN ('x', 'y')) DEFAULT 'x');
     CREATE TABLE a (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b (id) ON DELETE SET NULL);
     CREATE UNIQUE INDEX ix_a_b ON a (b_id) WHERE b_id IS NOT NULL;`,
    async (connection) => {
      const text = await dumpSchema(connection);
      assert.equal(
        text,
        [
          "-- sqlite schema",
          "",
          "table a",
          "  column id INTEGER NOT NULL",
          "  column b_id INTEGER",
          "  primary key (id)",
          "  foreign key (b_id) references b (id) ON DELETE SET NULL",
          "  unique index ix_a_b (b_id) WHERE b_id IS NOT NULL",
          "",
          "table b",
          "  column id INTEGER NOT NULL",
          "  column s VARCHAR(1) ENUM ('x', 'y') DEFAULT 'x'",
          "  primary key (id)",
          "",
        ].join("\n"),
      );
      const json = JSON.parse(await dumpSchema(connection, { json: true }));
      assert.deepEqual(json.tables.map((t: { name: string }) => t.name), ["a", "b"]);
      assert.equal(
        await dumpSchema(connection, { json: true }),
        await dumpSchema(connection, { json: true }),
      );
    },
  );
});

Deno.test("sqlite: the definition model and the database model diff to nothing after create", async () => {
  await withDb("", async (connection) => {
    const target = definitionToModel(fullSchema, "sqlite");
    const empty = await introspectSqlite(connection);
    await apply(connection, diffModels(empty, target).operations);
    assert.deepEqual(diffModels(await introspectSqlite(connection), target).operations, []);
  });
});
