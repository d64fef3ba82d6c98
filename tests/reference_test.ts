/**
 * The reference schema on real databases: both chains go up and down with sample data in
 * them, keep the data their migrations say they keep, rebuild what their backfills derive,
 * and end in schemas that are the same on SQLite and PostgreSQL modulo the documented type
 * mapping and dialect-specific indexes (`docs/reference-schema.md`).
 *
 * @module
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { downgrade, type MigrateResult, upgrade } from "../lib/migrate.ts";
import { openConnection } from "../lib/db/open.ts";
import type { Connection } from "../lib/db/connection.ts";
import {
  generateSampleRows,
  type Json,
  loadSampleData,
  type SampleDataOptions,
} from "../scripts/sample_data.ts";
import { pgTest } from "./support/pg.ts";
import { withTempDir } from "./support/tmp.ts";

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "migrations");

type Dialect = "sqlite" | "postgresql";

/** The chain of a dialect in order (it is linear), as slug → revision and the ordered list. */
function chainOf(dialect: Dialect): { revisions: string[]; bySlug: Map<string, string> } {
  const files = fs.readdirSync(path.join(DIR, dialect)).filter((f) => /\.(ts|sql)$/.test(f))
    .sort();
  const bySlug = new Map<string, string>();
  const revisions = files.map((file) => {
    const match = /^\d{4}_\d{2}_\d{2}_\d{6}_([0-9a-f]{12})_(.+)\.(ts|sql)$/.exec(file);
    assert.ok(match, `unexpected file name ${file}`);
    bySlug.set(match[2], match[1]);
    return match[1];
  });
  return { revisions, bySlug };
}

const BOOKKEEPING = new Set(["alembic_version", "strata_log"]);

/** The columns every revision from the first one on has, by table: what must survive. */
const CORE_COLUMNS: Record<string, string[]> = {
  flow: ["id", "created", "name", "tags"],
  deployment: [
    "id",
    "name",
    "flow_id",
    "version",
    "description",
    "paused",
    "parameters",
    "tags",
    "work_queue_name",
    "entrypoint",
  ],
  flow_run: [
    "id",
    "name",
    "flow_id",
    "deployment_id",
    "parent_task_run_id",
    "work_queue_name",
    "idempotency_key",
    "state_id",
    "state_type",
    "state_name",
    "expected_start_time",
    "next_scheduled_start_time",
    "total_run_time",
    "parameters",
  ],
  flow_run_state: ["id", "flow_run_id", "type", "timestamp", "name", "message", "state_details"],
  task_run: ["id", "name", "flow_run_id", "task_key", "dynamic_key", "state_type", "task_inputs"],
  task_run_state: ["id", "task_run_id", "type", "timestamp", "name"],
  log: ["id", "level", "flow_run_id", "task_run_id", "message", "timestamp"],
};

/** Columns holding a state type: CANCELLING becomes CANCELLED below `add_cancelling_state_type`. */
const STATE_COLUMNS = new Set(["state_type", "type"]);

function normalise(column: string, value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (STATE_COLUMNS.has(column) && value === "CANCELLING") return "CANCELLED";
  return value;
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Row count and content hash of each core table's surviving columns. */
async function coreHashes(db: Connection): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [table, columns] of Object.entries(CORE_COLUMNS)) {
    const list = columns.map((c) => `"${c}"`).join(", ");
    const rows = await db.query(`SELECT ${list} FROM ${table} ORDER BY id`);
    const text = rows.map((row) => JSON.stringify(columns.map((c) => normalise(c, row[c]))))
      .join("\n");
    out[table] = `${rows.length}:${await sha256(text)}`;
  }
  return out;
}

async function count(db: Connection, sql: string, params: unknown[] = []): Promise<number> {
  const rows = await db.query<{ n: number | string | bigint }>(sql, params);
  return Number(rows[0].n);
}

async function userTables(db: Connection): Promise<string[]> {
  const rows = db.dialect === "sqlite"
    ? await db.query<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    : await db.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables " +
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    );
  return rows.map((r) => r.name).filter((name) => !BOOKKEEPING.has(name)).sort();
}

function at(result: MigrateResult): string {
  assert.ok(result.after.length <= 1, `several heads: ${result.after.join(", ")}`);
  return result.after[0] ?? "base";
}

/** Run `fn` with a connection to the database, for checks beside the migrations. */
async function withDatabase(url: string, fn: (db: Connection) => Promise<void>): Promise<void> {
  const db = openConnection(url);
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

/** Small enough for a walk of every step, big enough for every kind of row. */
const SMALL: SampleDataOptions = { flows: 12, flowRuns: 60, taskRuns: 240, seed: 7 };

/**
 * Every step up and down, one at a time: up from base on an empty database; down to the
 * first revision with the sample in it; up again with the core tables full (so every
 * backfill runs on real rows); and down to base.
 */
async function stepWalk(dialect: Dialect, url: string): Promise<void> {
  const { revisions, bySlug } = chainOf(dialect);
  const options = { url, dir: DIR };
  for (const [i, revision] of revisions.entries()) {
    const result = await upgrade("+1", options);
    assert.equal(result.steps.length, 1);
    assert.equal(at(result), revision, `upgrade +1 number ${i + 1}`);
  }
  await withDatabase(url, async (db) => {
    await loadSampleData(db, SMALL);
    const hashes = await coreHashes(db);
    const cancelling = await count(
      db,
      "SELECT count(*) AS n FROM flow_run WHERE CAST(state_type AS VARCHAR) = 'CANCELLING'",
    );
    const cancelled = await count(
      db,
      "SELECT count(*) AS n FROM flow_run WHERE CAST(state_type AS VARCHAR) = 'CANCELLED'",
    );
    assert.ok(cancelling > 0, "the sample has cancelling runs");

    // Down to the first revision, one step at a time, the core data intact at every step.
    for (let i = revisions.length - 2; i >= 0; i--) {
      const result = await downgrade("-1", options);
      assert.equal(at(result), revisions[i], `downgrade -1 to ${revisions[i]}`);
      assert.deepEqual(
        await coreHashes(db),
        hashes,
        `core data after downgrade to ${revisions[i]}`,
      );
      if (
        revisions[i] === revisions[revisions.indexOf(bySlug.get("add_cancelling_state_type")!) - 1]
      ) {
        // The documented lossy step: CANCELLING runs become CANCELLED.
        assert.equal(
          await count(
            db,
            "SELECT count(*) AS n FROM flow_run WHERE CAST(state_type AS VARCHAR) = 'CANCELLING'",
          ),
          0,
        );
        assert.equal(
          await count(
            db,
            "SELECT count(*) AS n FROM flow_run WHERE CAST(state_type AS VARCHAR) = 'CANCELLED'",
          ),
          cancelled + cancelling,
        );
      }
    }
    assert.deepEqual(await userTables(db), Object.keys(CORE_COLUMNS).sort());

    // Up again, one step at a time, with every backfill running on the core rows.
    for (let i = 1; i < revisions.length; i++) {
      const result = await upgrade("+1", options);
      assert.equal(at(result), revisions[i], `upgrade +1 to ${revisions[i]}`);
      assert.deepEqual(await coreHashes(db), hashes, `core data after upgrade to ${revisions[i]}`);
      if (i >= revisions.indexOf(bySlug.get("add_work_pools_and_queues")!)) {
        // Every deployment is on the queue its old name named (or `default`).
        assert.equal(
          await count(
            db,
            `SELECT count(*) AS n FROM deployment d LEFT JOIN work_queue q ON q.id = d.work_queue_id
              WHERE q.name IS NULL OR q.name <> COALESCE(d.work_queue_name, 'default')`,
          ),
          0,
        );
        assert.equal(
          await count(
            db,
            `SELECT count(*) AS n FROM flow_run r LEFT JOIN work_queue q ON q.id = r.work_queue_id
              WHERE r.work_queue_name IS NOT NULL AND (q.name IS NULL OR q.name <> r.work_queue_name)`,
          ),
          0,
        );
      }
      if (i >= revisions.indexOf(bySlug.get("add_deployment_versions")!)) {
        // One active version per deployment, named after the deployment's version.
        assert.equal(
          await count(
            db,
            `SELECT count(*) AS n FROM deployment d JOIN deployment_version v
               ON v.id = d.version_id AND v.deployment_id = d.id AND v.is_active
              WHERE v.version = COALESCE(d.version, 'initial')`,
          ),
          await count(db, "SELECT count(*) AS n FROM deployment"),
        );
      }
    }

    // And down to base.
    const result = await downgrade("base", options);
    assert.equal(result.steps.length, revisions.length);
    assert.equal(at(result), "base");
    assert.deepEqual(await userTables(db), []);
  });
}

/**
 * The full sample, and what the mid-chain backfills derive: down to `add_artifacts` drops
 * collections, versions and JSON variables; up again derives them; then base and head again,
 * ending in the same schema as the first upgrade.
 */
async function fullRoundTrip(dialect: Dialect, url: string): Promise<void> {
  const { revisions, bySlug } = chainOf(dialect);
  const options = { url, dir: DIR };
  const first = await upgrade("head", options);
  assert.equal(at(first), revisions.at(-1));
  await withDatabase(url, async (db) => {
    const schemaAtHead = await introspect(db);
    const counts = await loadSampleData(db);
    assert.equal(counts.flow, 100);
    assert.equal(counts.flow_run, 1000);
    assert.equal(counts.task_run, 10000);
    const hashes = await coreHashes(db);
    const sample = generateSampleRows();
    const variables = new Map(
      sample.get("variable")!.map((row) => [row.name as string, (row.value as Json).value]),
    );

    const artifacts = bySlug.get("add_artifacts")!;
    const down = await downgrade(artifacts, options);
    assert.equal(at(down), artifacts);
    assert.deepEqual(await coreHashes(db), hashes);
    // Variables are text again: a JSON string became its text, anything else its JSON text.
    for (
      const row of await db.query<{ name: string; value: string }>(
        "SELECT name, value FROM variable",
      )
    ) {
      const original = variables.get(row.name);
      if (typeof original === "string") assert.equal(row.value, original);
      else assert.deepEqual(JSON.parse(row.value), original);
    }
    assert.equal(await count(db, "SELECT count(*) AS n FROM artifact"), counts.artifact);

    const up = await upgrade("head", options);
    assert.equal(at(up), revisions.at(-1));
    assert.deepEqual(await coreHashes(db), hashes);
    // Strings came back as they were; other values as JSON strings of their text.
    for (
      const row of await db.query<{ name: string; value: unknown }>(
        "SELECT name, value FROM variable",
      )
    ) {
      const value = typeof row.value === "string" && dialect === "sqlite"
        ? JSON.parse(row.value)
        : row.value;
      const original = variables.get(row.name);
      if (typeof original === "string") assert.equal(value, original);
      else assert.deepEqual(JSON.parse(value as string), original);
    }
    // Collections are derived again from the artifacts: the latest per key.
    const expected = sample.get("artifact_collection")!.map((row) => `${row.key}:${row.latest_id}`)
      .sort();
    const actual = (await db.query<{ key: string; latest_id: string }>(
      "SELECT key, latest_id FROM artifact_collection",
    )).map((row) => `${row.key}:${row.latest_id}`).sort();
    assert.deepEqual(actual, expected);
    // One version per deployment again, the active one.
    assert.equal(
      await count(db, "SELECT count(*) AS n FROM deployment_version WHERE is_active"),
      counts.deployment,
    );

    const base = await downgrade("base", options);
    assert.equal(at(base), "base");
    assert.deepEqual(await userTables(db), []);
    const again = await upgrade("head", options);
    assert.equal(again.steps.length, revisions.length);
    assert.deepEqual(await introspect(db), schemaAtHead);
  });
}

// ---------------------------------------------------------------------------------------------
// Introspection, reduced to what both dialects can say and normalised by the type mapping.

/** Indexes that exist in one dialect only, on purpose (see docs/reference-schema.md). */
const DIALECT_SPECIFIC_INDEXES: Record<Dialect, string[]> = {
  sqlite: [
    "ix_flow__name_nocase",
    "ix_deployment__name_nocase",
    "ix_flow_run__name_nocase",
    "ix_block_document__name_nocase",
  ],
  postgresql: [
    "ix_flow__name_trgm",
    "ix_deployment__name_trgm",
    "ix_flow_run__name_trgm",
    "ix_block_document__name_trgm",
    "ix_flow__labels_gin",
    "ix_deployment__labels_gin",
    "ix_flow_run__labels_gin",
    "ix_task_run__labels_gin",
    "ix_events__related_resource_ids_gin",
  ],
};

interface TableShape {
  columns: Record<string, { type: string; nullable: boolean; hasDefault: boolean }>;
  primaryKey: string[];
  foreignKeys: string[];
  uniques: string[];
  indexes: Record<string, string>;
}
type SchemaShape = Record<string, TableShape>;

const SQLITE_TYPES: Record<string, string> = {
  "CHAR(36)": "uuid",
  DATETIME: "timestamp",
  JSON: "json",
  TEXT: "text",
  INTEGER: "integer",
  SMALLINT: "smallint",
  BIGINT: "bigint",
  FLOAT: "float",
  BOOLEAN: "boolean",
};

const POSTGRES_TYPES: Record<string, string> = {
  uuid: "uuid",
  "timestamp with time zone": "timestamp",
  jsonb: "json",
  json: "json",
  text: "text",
  integer: "integer",
  smallint: "smallint",
  bigint: "bigint",
  "double precision": "float",
  boolean: "boolean",
};

const PG_ACTIONS: Record<string, string> = {
  a: "NO ACTION",
  r: "RESTRICT",
  c: "CASCADE",
  n: "SET NULL",
  d: "SET DEFAULT",
};

/** `enum:<values>` for a SQLite column whose CHECK is `col IN ('A', 'B')`, else undefined. */
function sqliteEnum(tableSql: string, column: string): string | undefined {
  const match = new RegExp(
    `\\b${column} VARCHAR\\(\\d+\\)[^,]*?CHECK \\(${column} IN \\(([^)]*)\\)\\)`,
  )
    .exec(tableSql);
  if (!match) return undefined;
  return `enum:${match[1].split(",").map((v) => v.trim().replace(/^'|'$/g, "")).join(",")}`;
}

async function introspect(db: Connection): Promise<SchemaShape> {
  return db.dialect === "sqlite" ? await introspectSqlite(db) : await introspectPostgres(db);
}

async function introspectSqlite(db: Connection): Promise<SchemaShape> {
  const schema: SchemaShape = {};
  for (const table of await userTables(db)) {
    const [{ sql }] = await db.query<{ sql: string }>(
      "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $1",
      [table],
    );
    const shape: TableShape = {
      columns: {},
      primaryKey: [],
      foreignKeys: [],
      uniques: [],
      indexes: {},
    };
    const columns = await db.query<
      { name: string; type: string; notnull: number; dflt_value: string | null; pk: number }
    >(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info('${table}')`);
    for (const c of columns) {
      const varchar = /^VARCHAR(?:\((\d+)\))?$/.exec(c.type);
      const type = sqliteEnum(sql, c.name) ??
        (varchar ? `varchar${varchar[1] ? `(${varchar[1]})` : ""}` : SQLITE_TYPES[c.type]);
      assert.ok(type, `unmapped SQLite type ${c.type} of ${table}.${c.name}`);
      shape.columns[c.name] = { type, nullable: !c.notnull, hasDefault: c.dflt_value !== null };
    }
    shape.primaryKey = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) =>
      c.name
    );
    const fks = await db.query<
      { id: number; seq: number; from: string; table: string; to: string; on_delete: string }
    >(`SELECT id, seq, "from", "table", "to", on_delete FROM pragma_foreign_key_list('${table}')`);
    const byId = Map.groupBy(fks, (fk) => fk.id);
    shape.foreignKeys = [...byId.values()].map((parts) => {
      parts.sort((a, b) => a.seq - b.seq);
      return `(${parts.map((p) => p.from)}) -> ${parts[0].table}(${
        parts.map((p) => p.to)
      }) ON DELETE ${parts[0].on_delete}`;
    }).sort();
    const indexes = await db.query<
      { name: string; unique: number; origin: string; partial: number }
    >(
      `SELECT name, "unique", origin, partial FROM pragma_index_list('${table}')`,
    );
    for (const index of indexes) {
      const cols = (await db.query<{ name: string | null }>(
        `SELECT name FROM pragma_index_info('${index.name}') ORDER BY seqno`,
      )).map((c) => c.name ?? "<expression>");
      if (index.origin === "u") shape.uniques.push(cols.join(","));
      if (index.origin === "c") {
        shape.indexes[index.name] = `${index.unique ? "unique " : ""}(${cols})${
          index.partial ? " partial" : ""
        }`;
      }
    }
    shape.uniques.sort();
    schema[table] = shape;
  }
  return schema;
}

async function introspectPostgres(db: Connection): Promise<SchemaShape> {
  const schema: SchemaShape = {};
  const enums = new Map<string, string>();
  for (
    const row of await db.query<{ name: string; labels: string }>(
      `SELECT t.typname AS name, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) AS labels
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname`,
    )
  ) enums.set(row.name, row.labels);
  for (const table of await userTables(db)) {
    const shape: TableShape = {
      columns: {},
      primaryKey: [],
      foreignKeys: [],
      uniques: [],
      indexes: {},
    };
    const columns = await db.query<
      {
        name: string;
        data_type: string;
        udt_name: string;
        is_nullable: string;
        length: number | null;
        column_default: string | null;
      }
    >(
      `SELECT column_name AS name, data_type, udt_name, is_nullable,
              character_maximum_length AS length, column_default
         FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
      [table],
    );
    for (const c of columns) {
      const type = c.data_type === "USER-DEFINED"
        ? `enum:${enums.get(c.udt_name)}`
        : c.data_type === "character varying"
        ? `varchar${c.length ? `(${c.length})` : ""}`
        : POSTGRES_TYPES[c.data_type];
      assert.ok(type, `unmapped PostgreSQL type ${c.data_type} of ${table}.${c.name}`);
      shape.columns[c.name] = {
        type,
        nullable: c.is_nullable === "YES",
        hasDefault: c.column_default !== null,
      };
    }
    const attname =
      `(SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum = k)`;
    const constraints = await db.query<
      { contype: string; cols: string[]; ref: string | null; refcols: string[]; action: string }
    >(
      `SELECT c.contype,
              ARRAY(SELECT ${attname} FROM unnest(c.conkey) WITH ORDINALITY u(k, o) ORDER BY o)
                AS cols,
              c.confrelid::regclass::text AS ref,
              ARRAY(SELECT (SELECT attname FROM pg_attribute
                             WHERE attrelid = c.confrelid AND attnum = k)
                      FROM unnest(c.confkey) WITH ORDINALITY u(k, o) ORDER BY o) AS refcols,
              c.confdeltype AS action
         FROM pg_constraint c WHERE c.conrelid = $1::regclass`,
      [table],
    );
    for (const c of constraints) {
      if (c.contype === "p") shape.primaryKey = c.cols;
      if (c.contype === "u") shape.uniques.push(c.cols.join(","));
      if (c.contype === "f") {
        shape.foreignKeys.push(
          `(${c.cols}) -> ${c.ref}(${c.refcols}) ON DELETE ${PG_ACTIONS[c.action]}`,
        );
      }
    }
    shape.foreignKeys.sort();
    shape.uniques.sort();
    const indexes = await db.query<
      { name: string; unique: boolean; partial: boolean; cols: (string | null)[] }
    >(
      `SELECT ic.relname AS name, i.indisunique AS unique, i.indpred IS NOT NULL AS partial,
              ARRAY(SELECT ${attname.replace("attnum = k", "attnum = k AND k <> 0")}
                      FROM unnest(i.indkey[0:i.indnkeyatts - 1]) WITH ORDINALITY u(k, o)
                     ORDER BY o) AS cols
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = $1::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
      [table],
    );
    for (const index of indexes) {
      const cols = index.cols.map((c) => c ?? "<expression>");
      shape.indexes[index.name] = `${index.unique ? "unique " : ""}(${cols})${
        index.partial ? " partial" : ""
      }`;
    }
    schema[table] = shape;
  }
  return schema;
}

/** Drop the documented dialect-specific indexes, after checking they are there. */
function portable(schema: SchemaShape, dialect: Dialect): SchemaShape {
  const copy: SchemaShape = structuredClone(schema);
  for (const name of DIALECT_SPECIFIC_INDEXES[dialect]) {
    const table = Object.values(copy).find((shape) => name in shape.indexes);
    assert.ok(table, `${dialect} should have its specific index ${name}`);
    delete table.indexes[name];
  }
  return copy;
}

// ---------------------------------------------------------------------------------------------
// The tests.

Deno.test("reference schema (sqlite): every step up and down, with data", async () => {
  await withTempDir(async (dir) => {
    await stepWalk("sqlite", `sqlite:${path.join(dir, "walk.db")}`);
  });
});

pgTest("reference schema: every step up and down, with data", async (url) => {
  await stepWalk("postgresql", url);
});

Deno.test("reference schema (sqlite): full sample round trip and backfills", async () => {
  await withTempDir(async (dir) => {
    await fullRoundTrip("sqlite", `sqlite:${path.join(dir, "full.db")}`);
  });
});

pgTest("reference schema: full sample round trip and backfills", async (url) => {
  await fullRoundTrip("postgresql", url);
});

pgTest("reference schema: the chains end in equivalent schemas", async (url) => {
  await withTempDir(async (dir) => {
    const sqliteUrl = `sqlite:${path.join(dir, "head.db")}`;
    await upgrade("head", { url: sqliteUrl, dir: DIR });
    await upgrade("head", { url, dir: DIR });
    let sqlite: SchemaShape = {};
    let postgres: SchemaShape = {};
    await withDatabase(sqliteUrl, async (db) => {
      sqlite = portable(await introspect(db), "sqlite");
    });
    await withDatabase(url, async (db) => {
      postgres = portable(await introspect(db), "postgresql");
      // The INCLUDE columns and the native enum are PostgreSQL's own.
      const [include] = await db.query<{ def: string }>(
        "SELECT pg_get_indexdef('ix_flow_run__scheduled_next_start'::regclass) AS def",
      );
      assert.match(include.def, /INCLUDE \(deployment_id, work_queue_id\)/);
    });
    assert.deepEqual(Object.keys(sqlite).sort(), Object.keys(postgres).sort());
    for (const table of Object.keys(sqlite)) {
      assert.deepEqual(sqlite[table], postgres[table], `table ${table}`);
    }
  });
});

pgTest(
  "reference schema: the concurrent index migration repairs an INVALID leftover",
  async (url) => {
    const { revisions, bySlug } = chainOf("postgresql");
    const gin = bySlug.get("add_gin_indexes_concurrently")!;
    const before = revisions[revisions.indexOf(gin) - 1];
    await upgrade(before, { url, dir: DIR });
    await withDatabase(url, async (db) => {
      // What an interrupted `CREATE INDEX CONCURRENTLY` leaves: an INVALID index of that name.
      await db.execute("INSERT INTO flow (name) VALUES ('a'), ('b')");
      await assert.rejects(
        db.execute("CREATE UNIQUE INDEX CONCURRENTLY ix_flow__labels_gin ON flow ((1))"),
      );
      const [leftover] = await db.query<{ valid: boolean }>(
        `SELECT i.indisvalid AS valid FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'ix_flow__labels_gin'`,
      );
      assert.equal(leftover.valid, false);
      const result = await upgrade("head", { url, dir: DIR });
      assert.equal(at(result), gin);
      const [index] = await db.query<{ valid: boolean; def: string }>(
        `SELECT i.indisvalid AS valid, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'ix_flow__labels_gin'`,
      );
      assert.equal(index.valid, true);
      assert.match(index.def, /USING gin \(labels jsonb_path_ops\)/);
      await downgrade("-1", { url, dir: DIR });
      assert.equal(
        await count(db, "SELECT count(*) AS n FROM pg_class WHERE relname = 'ix_flow__labels_gin'"),
        0,
      );
    });
  },
);

Deno.test("reference schema: the chains pair up in the notes", () => {
  const notes = fs.readFileSync(path.join(DIR, "..", "MIGRATION-NOTES.md"), "utf8");
  const sqlite = chainOf("sqlite").revisions;
  const postgres = chainOf("postgresql").revisions;
  const entries = [...notes.matchAll(/^SQLite: *`?(\w+)`?\s*\nPostgres: *`?(\w+)`?/gm)].map((
    m,
  ) => [m[1], m[2]]);
  // Newest first, one entry per change, every revision named once.
  assert.deepEqual(
    entries.map((e) => e[0]).filter((id) => id !== "None"),
    [...sqlite].reverse(),
  );
  assert.deepEqual(
    entries.map((e) => e[1]).filter((id) => id !== "None"),
    [...postgres].reverse(),
  );
});
