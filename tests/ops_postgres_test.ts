/**
 * Operations on a real PostgreSQL server (see `support/pg.ts`): one fresh database per test,
 * catalog state asserted from pg_catalog rather than from what strata believes it did.
 * Without a server the tests are skipped loudly, or fail when CI is set.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { createMigrationContext } from "../lib/ops/context.ts";
import { UnsupportedOperationError } from "../lib/ops/errors.ts";
import type { Executor } from "../lib/ops/executor.ts";
import { postgresExecutor } from "./support/executors.ts";
import { pgTest } from "./support/pg.ts";

type Sql = ReturnType<typeof postgres>;

/** Run `fn` against a new database (see `support/pg.ts`), dropped afterwards. */
function pgOpsTest(name: string, fn: (sql: Sql) => Promise<void>): void {
  pgTest(name, async (url) => {
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await fn(sql);
    } finally {
      await sql.end();
    }
  });
}

/** Run operations inside one transaction, as a transactional migration does. */
async function inTransaction(sql: Sql, fn: (executor: Executor) => Promise<void>) {
  await sql.begin(async (tx) => {
    await fn(postgresExecutor(tx, { inTransaction: true }));
  });
}

pgOpsTest("postgresql enum: create, add values (in a transaction), use, drop", async (sql) => {
  await inTransaction(sql, async (executor) => {
    const { op, t } = createMigrationContext(executor, "aaaaaaaaaaaa");
    await op.createEnum("state_type", ["PENDING", "RUNNING"]);
    await op.addEnumValue("state_type", "SCHEDULED", { before: "PENDING" });
    await op.addEnumValue("state_type", "DONE", { after: "RUNNING", ifNotExists: true });
    await op.createTable("run", [
      { name: "id", type: t.bigint(), primaryKey: true, autoincrement: true },
      { name: "state", type: t.enum("state_type", []), nullable: false, default: "PENDING" },
    ]);
  });
  const labels = await sql`
    SELECT e.enumlabel FROM pg_catalog.pg_enum e
    JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid
    WHERE t.typname = 'state_type' ORDER BY e.enumsortorder`;
  assert.deepEqual(labels.map((r) => r.enumlabel), ["SCHEDULED", "PENDING", "RUNNING", "DONE"]);
  const [column] = await sql`
    SELECT t.typname, a.attnotnull FROM pg_catalog.pg_attribute a
    JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
    WHERE a.attrelid = 'run'::regclass AND a.attname = 'state'`;
  assert.deepEqual({ ...column }, { typname: "state_type", attnotnull: true });
  const [id] = await sql`
    SELECT attidentity FROM pg_catalog.pg_attribute
    WHERE attrelid = 'run'::regclass AND attname = 'id'`;
  assert.equal(id.attidentity, "d");
  await sql`INSERT INTO run (state) VALUES ('DONE')`;

  await inTransaction(sql, async (executor) => {
    const { op } = createMigrationContext(executor, "bbbbbbbbbbbb");
    await op.dropTable("run");
    await op.dropEnum("state_type");
    await op.dropEnum("state_type", { ifExists: true });
  });
  const types = await sql`SELECT 1 FROM pg_catalog.pg_type WHERE typname = 'state_type'`;
  assert.equal(types.length, 0);
});

pgOpsTest(
  "postgresql indexes: GIN on jsonb, trigram, INCLUDE, partial, expression",
  async (sql) => {
    const [trgm] = await sql`
    SELECT count(*)::int AS n FROM pg_catalog.pg_available_extensions WHERE name = 'pg_trgm'`;
    assert.equal(trgm.n, 1, "pg_trgm is not available on this server: install postgresql-contrib");
    await inTransaction(sql, async (executor) => {
      const { op, t } = createMigrationContext(executor, "cccccccccccc");
      await op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm");
      await op.createTable("flow", [
        { name: "id", type: t.uuid(), primaryKey: true, default: { raw: "gen_random_uuid()" } },
        { name: "name", type: t.text(), nullable: false },
        { name: "tags", type: t.jsonb(), nullable: false, default: { raw: "'[]'::jsonb" } },
        { name: "deleted", type: t.timestamp({ withTimeZone: true }) },
        { name: "created", type: t.timestamp({ withTimeZone: true }) },
      ]);
      await op.createIndex("ix_flow_tags", "flow", ["tags"], { using: "gin" });
      await op.createIndex("ix_flow_name_trgm", "flow", ["name"], {
        using: "gin",
        opclass: { name: "gin_trgm_ops" },
      });
      await op.createIndex("ix_flow_created", "flow", ["created"], { include: ["id", "name"] });
      await op.createIndex("uq_flow_name_live", "flow", ["name"], {
        unique: true,
        where: "deleted IS NULL",
      });
      await op.createIndex("ix_flow_lower_name", "flow", [{ expression: "lower(name)" }]);
    });
    const indexes = await sql`
    SELECT c.relname AS name, am.amname AS method, i.indisunique AS unique,
      i.indnatts AS natts, i.indnkeyatts AS nkeyatts,
      pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS predicate,
      pg_catalog.pg_get_expr(i.indexprs, i.indrelid) AS expressions,
      (SELECT string_agg(oc.opcname, ',') FROM unnest(i.indclass) AS k(oid)
        JOIN pg_catalog.pg_opclass oc ON oc.oid = k.oid) AS opclasses
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
    JOIN pg_catalog.pg_am am ON am.oid = c.relam
    WHERE i.indrelid = 'flow'::regclass AND NOT i.indisprimary
    ORDER BY c.relname`;
    assert.deepEqual(indexes.map((row) => ({ ...row })), [
      {
        name: "ix_flow_created",
        method: "btree",
        unique: false,
        natts: 3,
        nkeyatts: 1,
        predicate: null,
        expressions: null,
        opclasses: "timestamptz_ops",
      },
      {
        name: "ix_flow_lower_name",
        method: "btree",
        unique: false,
        natts: 1,
        nkeyatts: 1,
        predicate: null,
        expressions: "lower(name)",
        opclasses: "text_ops",
      },
      {
        name: "ix_flow_name_trgm",
        method: "gin",
        unique: false,
        natts: 1,
        nkeyatts: 1,
        predicate: null,
        expressions: null,
        opclasses: "gin_trgm_ops",
      },
      {
        name: "ix_flow_tags",
        method: "gin",
        unique: false,
        natts: 1,
        nkeyatts: 1,
        predicate: null,
        expressions: null,
        opclasses: "jsonb_ops",
      },
      {
        name: "uq_flow_name_live",
        method: "btree",
        unique: true,
        natts: 1,
        nkeyatts: 1,
        predicate: "(deleted IS NULL)",
        expressions: null,
        opclasses: "text_ops",
      },
    ]);
  },
);

pgOpsTest(
  "postgresql concurrently: refused in a transaction, INVALID leftover rebuilt",
  async (sql) => {
    await sql`CREATE TABLE flow (id integer PRIMARY KEY, name text)`;
    await sql`INSERT INTO flow SELECT g, 'flow ' || g FROM generate_series(1, 1000) g`;
    // What an interrupted CREATE INDEX CONCURRENTLY leaves: an index marked invalid.
    await sql`CREATE INDEX ix_flow_name ON flow (name)`;
    await sql`UPDATE pg_catalog.pg_index SET indisvalid = false
    WHERE indexrelid = 'ix_flow_name'::regclass`;
    const before = await sql`SELECT indexrelid::int AS oid FROM pg_catalog.pg_index
    WHERE indexrelid = 'ix_flow_name'::regclass AND NOT indisvalid`;
    assert.equal(before.length, 1);

    await assert.rejects(
      inTransaction(sql, async (executor) => {
        const { op } = createMigrationContext(executor, "dddddddddddd");
        await op.createIndex("ix_flow_name", "flow", ["name"], { concurrently: true });
      }),
      {
        name: "UnsupportedOperationError",
        message: "Cannot create index ix_flow_name concurrently: the migration runs inside a " +
          "transaction, where PostgreSQL forbids it; make the migration non-transactional " +
          '(export const transactional = false, or "-- migrate:up transaction:false")',
      },
    );

    const executor = postgresExecutor(sql, { inTransaction: false });
    const { op } = createMigrationContext(executor, "eeeeeeeeeeee");
    await op.createIndex("ix_flow_name", "flow", ["name"], { concurrently: true });
    assert.deepEqual(executor.statements, [
      "DROP INDEX CONCURRENTLY ix_flow_name",
      "CREATE INDEX CONCURRENTLY ix_flow_name ON flow (name)",
    ]);
    assert.deepEqual(executor.comments, [
      "dropping INVALID index ix_flow_name left by an interrupted build",
    ]);
    const after = await sql`SELECT i.indexrelid::int AS oid, i.indisvalid, i.indisready
    FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
    WHERE c.relname = 'ix_flow_name'`;
    assert.equal(after.length, 1);
    assert.equal(after[0].indisvalid, true);
    assert.equal(after[0].indisready, true);
    assert.notEqual(after[0].oid, before[0].oid);

    // A valid index of the same name is left alone (and the create then fails as it should).
    await assert.rejects(
      op.createIndex("ix_flow_name", "flow", ["name"], { concurrently: true }),
      /already exists/,
    );
    await op.dropIndex("ix_flow_name", { concurrently: true });
    const gone = await sql`SELECT 1 FROM pg_catalog.pg_class WHERE relname = 'ix_flow_name'`;
    assert.equal(gone.length, 0);
  },
);

pgOpsTest(
  "postgresql concurrently: an INVALID index of the same name on another table is left alone",
  async (sql) => {
    await sql`CREATE TABLE a (x integer)`;
    await sql`CREATE TABLE b (y integer)`;
    await sql`CREATE INDEX ix_shared ON a (x)`;
    await sql`UPDATE pg_catalog.pg_index SET indisvalid = false
    WHERE indexrelid = 'ix_shared'::regclass`;
    const executor = postgresExecutor(sql, { inTransaction: false });
    const { op } = createMigrationContext(executor, "ffffffffffff");
    await assert.rejects(
      op.createIndex("ix_shared", "b", ["y"], { concurrently: true }),
      /already exists/,
    );
    assert.deepEqual(executor.statements, ["CREATE INDEX CONCURRENTLY ix_shared ON b (y)"]);
    const left = await sql`SELECT indrelid::regclass::text AS t FROM pg_catalog.pg_index
    WHERE indexrelid = 'ix_shared'::regclass`;
    assert.deepEqual(left.map((r) => r.t), ["a"]);
  },
);

pgOpsTest(
  "postgresql bulkInsert and defaults: text with ';' and newlines, Infinity",
  async (sql) => {
    await inTransaction(sql, async (executor) => {
      const { op, t } = createMigrationContext(executor, "abababababab");
      await op.createTable("note", [
        { name: "id", type: t.integer(), primaryKey: true },
        { name: "body", type: t.text() },
        { name: "score", type: t.raw("double precision"), default: Infinity },
      ]);
      await op.bulkInsert("note", [
        { id: 1, body: "first;\nsecond;\n" },
        { id: 2, body: "a';\nDROP TABLE note;--" },
      ]);
    });
    const rows = await sql`SELECT id, body, score FROM note ORDER BY id`;
    assert.deepEqual(rows.map((r) => [r.id, r.body, r.score]), [
      [1, "first;\nsecond;\n", Infinity],
      [2, "a';\nDROP TABLE note;--", Infinity],
    ]);
  },
);

pgOpsTest("postgresql identifiers: newer reserved words are quoted", async (sql) => {
  await inTransaction(sql, async (executor) => {
    const { op, t } = createMigrationContext(executor, "acacacacacac");
    await op.createTable("collation", [
      { name: "concurrently", type: t.integer() },
      { name: "current_schema", type: t.text() },
    ]);
  });
  const columns = await sql`SELECT column_name FROM information_schema.columns
  WHERE table_name = 'collation' ORDER BY ordinal_position`;
  assert.deepEqual(columns.map((c) => c.column_name), ["concurrently", "current_schema"]);
});

pgOpsTest("postgresql batchAlterTable runs direct ALTERs", async (sql) => {
  await sql`CREATE TABLE flow (id integer PRIMARY KEY, n text, legacy text)`;
  await sql`INSERT INTO flow VALUES (1, '41', 'x')`;
  await inTransaction(sql, async (executor) => {
    const { op, t } = createMigrationContext(executor, "ffffffffffff");
    await op.batchAlterTable("flow", (b) => {
      b.alterColumn("n", {
        type: t.bigint(),
        using: "n::bigint + 1",
        nullable: false,
        default: 0,
        newName: "total",
      });
      b.dropColumn("legacy");
      b.addColumn({ name: "labels", type: t.jsonb(), nullable: false, default: { raw: "'{}'" } });
      b.createCheck({ name: "ck_flow_total", expression: "total >= 0" });
      b.createUnique({ name: "uq_flow_total", columns: ["total", "id"] });
    });
  });
  const columns = await sql`
    SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
      pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS "default"
    FROM pg_catalog.pg_attribute a
    LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = 'flow'::regclass AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY a.attnum`;
  assert.deepEqual(columns.map((row) => ({ ...row })), [
    { attname: "id", type: "integer", attnotnull: true, default: null },
    { attname: "total", type: "bigint", attnotnull: true, default: "0" },
    { attname: "labels", type: "jsonb", attnotnull: true, default: "'{}'::jsonb" },
  ]);
  const constraints = await sql`SELECT conname, contype FROM pg_catalog.pg_constraint
    WHERE conrelid = 'flow'::regclass ORDER BY conname`;
  assert.deepEqual(constraints.map((row) => `${row.conname}:${row.contype}`), [
    "ck_flow_total:c",
    "flow_pkey:p",
    "uq_flow_total:u",
  ]);
  assert.deepEqual([...await sql`SELECT total FROM flow`].map((r) => r.total), ["42"]);
});

Deno.test("postgresql addEnumValue in a transaction on a server older than 12 is refused", async () => {
  const executor: Executor = {
    dialect: "postgresql",
    inTransaction: true,
    dryRun: false,
    run: () => Promise.reject(new Error("must not run")),
    query: <T>() => Promise.resolve([{ version: 110005 }] as T[]),
    comment: () => {},
  };
  const { op } = createMigrationContext(executor, "111111111111");
  await assert.rejects(op.addEnumValue("state_type", "DONE"), (error: unknown) => {
    assert.ok(error instanceof UnsupportedOperationError);
    assert.equal(
      error.message,
      "Cannot add value 'DONE' to enum state_type on PostgreSQL 110005: the migration runs " +
        "inside a transaction, where PostgreSQL forbids it; make the migration " +
        'non-transactional (export const transactional = false, or "-- migrate:up ' +
        'transaction:false")',
    );
    return true;
  });
});
