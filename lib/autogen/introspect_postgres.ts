/**
 * Read a PostgreSQL schema (the connection's `current_schema()`, or a named one) from
 * `pg_catalog` into a {@link SchemaModel}.
 *
 * Types come from `format_type`, defaults from `pg_get_expr`, CHECK expressions from the
 * constraint's expression tree, and indexes from `pg_index`: one `pg_get_indexdef(oid, n)` per
 * column (a name or an expression), the predicate, `INCLUDE` columns, the access method and
 * the operator classes that are not the type's default. Indexes that back a primary key or
 * unique constraint belong to the constraint, not to the table's indexes. Identity and serial
 * columns read back as `autoincrement` without a default.
 *
 * @module
 */

import type { Connection } from "../db/connection.ts";
import type { IndexColumn } from "../ops/operations.ts";
import type { ColumnType, ReferentialAction } from "../ops/types.ts";
import type {
  CheckModel,
  ColumnModel,
  EnumModel,
  ForeignKeyModel,
  IndexModel,
  SchemaModel,
  TableModel,
  UniqueModel,
} from "./model.ts";
import { isStrataTable, sortedByName } from "./model.ts";
import { numericOf, reflectedDefault, splitTypeSpelling, stripOuterParens } from "./sql_text.ts";
import type { IntrospectOptions } from "./introspect_sqlite.ts";
import { quoteIdent } from "../dialect/quote.ts";

/** Options of {@link introspectPostgres}. */
export interface PostgresIntrospectOptions extends IntrospectOptions {
  /** The schema to read; default the connection's `current_schema()`. */
  readonly schema?: string;
}

/**
 * A type as `format_type` spells it, as a portable type (`raw` for anything else).
 *
 * @example
 * ```ts
 * import { parsePostgresType } from "./introspect_postgres.ts";
 * parsePostgresType("character varying(255)"); // { type: "varchar", length: 255 }
 * parsePostgresType("TIMESTAMP WITH TIME ZONE"); // { type: "timestamp", withTimeZone: true }
 * ```
 */
export function parsePostgresType(text: string): ColumnType {
  const spelling = splitTypeSpelling(text);
  const { spelled, name, length } = spelling;
  const plain = length === undefined;
  switch (name) {
    case "integer":
    case "int":
    case "int4":
      if (plain) return { type: "integer" };
      break;
    case "bigint":
    case "int8":
      if (plain) return { type: "bigint" };
      break;
    case "smallint":
    case "int2":
      if (plain) return { type: "smallint" };
      break;
    case "double precision":
    case "float8":
      if (plain) return { type: "float" };
      break;
    case "numeric":
    case "decimal":
      return numericOf(spelling);
    case "boolean":
    case "bool":
      if (plain) return { type: "boolean" };
      break;
    case "text":
      if (plain) return { type: "text" };
      break;
    case "character varying":
    case "varchar":
      return plain ? { type: "varchar" } : { type: "varchar", length };
    case "uuid":
      if (plain) return { type: "uuid" };
      break;
    case "json":
      if (plain) return { type: "json" };
      break;
    case "jsonb":
      if (plain) return { type: "jsonb" };
      break;
    case "timestamp without time zone":
    case "timestamp":
      if (plain) return { type: "timestamp", withTimeZone: false };
      break;
    case "timestamp with time zone":
    case "timestamptz":
      if (plain) return { type: "timestamp", withTimeZone: true };
      break;
    case "date":
      if (plain) return { type: "date" };
      break;
    case "interval":
      if (plain) return { type: "interval" };
      break;
    case "bytea":
      if (plain) return { type: "blob" };
      break;
  }
  return { type: "raw", sql: spelled };
}

const ACTIONS: Record<string, ReferentialAction> = {
  a: "NO ACTION",
  r: "RESTRICT",
  c: "CASCADE",
  n: "SET NULL",
  d: "SET DEFAULT",
};

/** JSON arrays come back as text so no driver-specific array parsing is involved. */
function list<T>(text: unknown): T[] {
  if (text === null || text === undefined) return [];
  return (typeof text === "string" ? JSON.parse(text) : text) as T[];
}

const COLUMNS_SQL = `
SELECT c.relname AS table_name, a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS type, t.typtype AS typtype, t.typname AS typname,
       a.attnotnull AS notnull, pg_get_expr(d.adbin, d.adrelid) AS default_sql,
       a.attidentity AS identity,
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname END AS collation
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum`;

const ENUMS_SQL = `
SELECT t.typname AS name, array_to_json(array_agg(e.enumlabel ORDER BY e.enumsortorder))::text AS labels
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid
WHERE n.nspname = $1
GROUP BY t.typname
ORDER BY t.typname`;

const CONSTRAINTS_SQL = `
SELECT c.relname AS table_name, con.conname AS name, con.contype AS type,
       (SELECT array_to_json(array_agg(a.attname ORDER BY k.i))::text
        FROM unnest(con.conkey) WITH ORDINALITY AS k(num, i)
        JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num) AS columns,
       f.relname AS ref_table,
       (SELECT array_to_json(array_agg(a.attname ORDER BY k.i))::text
        FROM unnest(con.confkey) WITH ORDINALITY AS k(num, i)
        JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num)
         AS ref_columns,
       con.confdeltype AS on_delete, con.confupdtype AS on_update,
       pg_get_expr(con.conbin, con.conrelid) AS expression
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_class f ON f.oid = con.confrelid
WHERE n.nspname = $1 AND con.contype IN ('p', 'u', 'c', 'f')
ORDER BY c.relname, con.conname`;

const INDEXES_SQL = `
SELECT t.relname AS table_name, ic.relname AS name, i.indisunique AS is_unique,
       i.indnkeyatts AS key_count, am.amname AS method,
       pg_get_expr(i.indpred, i.indrelid) AS predicate,
       (SELECT array_to_json(array_agg(json_build_object(
                 'position', k.i, 'attnum', k.num,
                 'text', pg_get_indexdef(i.indexrelid, k.i::int, true),
                 'opclass', CASE WHEN oc.opcdefault THEN NULL ELSE oc.opcname END,
                 'collation', CASE WHEN k.num <> 0 AND coll.oid <> a.attcollation
                                   THEN coll.collname END)
               ORDER BY k.i))::text
        FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(num, i)
        LEFT JOIN pg_catalog.pg_opclass oc ON oc.oid = (i.indclass::oid[])[k.i - 1]
        LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num
        LEFT JOIN pg_catalog.pg_collation coll
          ON coll.oid = (i.indcollation::oid[])[k.i - 1]) AS columns
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
WHERE n.nspname = $1 AND t.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con
                  WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                    AND con.contype IN ('p', 'u', 'x'))
ORDER BY t.relname, ic.relname`;

interface ColumnRow extends Record<string, unknown> {
  table_name: string;
  name: string;
  type: string;
  typtype: string;
  typname: string;
  notnull: boolean;
  default_sql: string | null;
  identity: string;
  collation: string | null;
}

interface ConstraintRow extends Record<string, unknown> {
  table_name: string;
  name: string;
  type: "p" | "u" | "c" | "f";
  columns: string | null;
  ref_table: string | null;
  ref_columns: string | null;
  on_delete: string;
  on_update: string;
  expression: string | null;
}

interface IndexRow extends Record<string, unknown> {
  table_name: string;
  name: string;
  is_unique: boolean;
  key_count: number;
  method: string;
  predicate: string | null;
  columns: string;
}

/**
 * The schema of a PostgreSQL database, without strata's own tables.
 *
 * @example
 * ```ts ignore
 * const model = await introspectPostgres(openConnection("postgres://localhost/app"));
 * model.enums; // [{ name: "state_type", values: [...] }]
 * ```
 */
export async function introspectPostgres(
  connection: Connection,
  options: PostgresIntrospectOptions = {},
): Promise<SchemaModel> {
  const schema = options.schema ??
    String((await connection.query<{ s: string }>("SELECT current_schema() AS s"))[0].s);
  const [columnRows, enumRows, constraintRows, indexRows] = [
    await connection.query<ColumnRow>(COLUMNS_SQL, [schema]),
    await connection.query<{ name: string; labels: string }>(ENUMS_SQL, [schema]),
    await connection.query<ConstraintRow>(CONSTRAINTS_SQL, [schema]),
    await connection.query<IndexRow>(INDEXES_SQL, [schema]),
  ];
  const enums: EnumModel[] = enumRows.map((row) => ({
    name: row.name,
    values: list<string>(row.labels),
  }));
  const enumValues = new Map(enums.map((e) => [e.name, e.values]));

  const columnsOf = new Map<string, ColumnModel[]>();
  for (const row of columnRows) {
    if (isStrataTable(row.table_name, options.versionTable)) continue;
    const identity = row.identity === "a" || row.identity === "d";
    const serial = /^nextval\(/i.test(row.default_sql ?? "");
    const type: ColumnType = row.typtype === "e"
      ? { type: "enum", name: row.typname, values: enumValues.get(row.typname) ?? [] }
      : parsePostgresType(row.type);
    const defaultValue = serial ? undefined : reflectedDefault(row.default_sql);
    const column: ColumnModel = {
      name: row.name,
      type,
      nullable: !row.notnull,
      ...(defaultValue === undefined ? {} : { default: defaultValue }),
      // As SQL spells it: `"C"` (an unquoted C would be folded to a collation `c`).
      ...(row.collation ? { collation: quoteIdent(row.collation) } : {}),
      autoincrement: identity || serial,
    };
    columnsOf.set(row.table_name, [...(columnsOf.get(row.table_name) ?? []), column]);
  }

  const tables: TableModel[] = [];
  for (const [name, columns] of columnsOf) {
    const own = constraintRows.filter((row) => row.table_name === name);
    const pk = own.find((row) => row.type === "p");
    const uniques: UniqueModel[] = own.filter((row) => row.type === "u").map((row) => ({
      name: row.name,
      columns: list<string>(row.columns),
    }));
    const checks: CheckModel[] = own.filter((row) => row.type === "c").map((row) => ({
      name: row.name,
      expression: stripOuterParens(row.expression ?? ""),
    }));
    const foreignKeys: ForeignKeyModel[] = own.filter((row) => row.type === "f").map((row) => ({
      name: row.name,
      columns: list<string>(row.columns),
      refTable: row.ref_table ?? "",
      refColumns: list<string>(row.ref_columns),
      onDelete: ACTIONS[row.on_delete] ?? "NO ACTION",
      onUpdate: ACTIONS[row.on_update] ?? "NO ACTION",
    }));
    const indexes = indexRows.filter((row) => row.table_name === name).map(indexModel);
    tables.push({
      name,
      columns,
      ...(pk ? { primaryKey: { name: pk.name, columns: list<string>(pk.columns) } } : {}),
      uniques,
      checks,
      foreignKeys,
      indexes: sortedByName(indexes),
    });
  }
  return { dialect: "postgresql", tables: sortedByName(tables), enums: sortedByName(enums) };
}

function indexModel(row: IndexRow): IndexModel {
  const parts = list<{
    position: number;
    attnum: number;
    text: string;
    opclass: string | null;
    collation: string | null;
  }>(row.columns);
  const keyCount = Number(row.key_count);
  const columns: IndexColumn[] = [];
  const include: string[] = [];
  const opclass: Record<string, string> = {};
  for (const part of parts) {
    const text = part.attnum === 0 ? stripOuterParens(part.text) : unquote(part.text);
    if (part.position > keyCount) {
      include.push(text);
      continue;
    }
    if (part.collation) {
      // `pg_get_indexdef` leaves a column's COLLATE out; the model keeps it as an expression,
      // as SQLite's introspection does (`name COLLATE "C"`).
      const expression = `${part.text} COLLATE "${part.collation.replaceAll('"', '""')}"`;
      columns.push({ expression });
      if (part.opclass) opclass[expression] = part.opclass;
      continue;
    }
    columns.push(part.attnum === 0 ? { expression: text } : text);
    if (part.opclass) opclass[text] = part.opclass;
  }
  const method = row.method.toLowerCase();
  return {
    name: row.name,
    columns,
    unique: row.is_unique,
    ...(row.predicate ? { where: stripOuterParens(row.predicate) } : {}),
    include,
    ...(method === "btree" ? {} : { using: method }),
    opclass,
  };
}

/** A column name as `pg_get_indexdef` quotes it (`"Name"`), unquoted. */
function unquote(text: string): string {
  return /^".*"$/.test(text) ? text.slice(1, -1).replaceAll('""', '"') : text;
}
