/**
 * The schema definition API: what a project's `schema.ts` exports, and its translation into one
 * {@link SchemaModel} per dialect.
 *
 * A `schema.ts` module's default export is a function that receives a {@link SchemaBuilder}
 * and returns the tables (and, optionally, enums). Like a migration, it needs no runtime import
 * of strata (a type-only import is fine), so the compiled binary can load it from anywhere.
 * What differs between dialects is declared where it differs: `dialects: ["postgresql"]` on a
 * table, column, index or constraint keeps it to those dialects, and a value written
 * `{ sqlite: ..., postgresql: ... }` (a type, a default, a collation, a check expression, an
 * index predicate) is picked per dialect.
 *
 * ```ts ignore
 * import type { SchemaBuilder } from "strata/schema";
 * export default ({ t, table, sql }: SchemaBuilder) => ({
 *   tables: [
 *     table("flow", {
 *       columns: [
 *         { name: "id", type: t.uuid(), primaryKey: true },
 *         { name: "name", type: t.varchar(255), nullable: false, collate: { sqlite: "NOCASE" } },
 *         { name: "created", type: t.timestamp({ withTimeZone: true }), nullable: false,
 *           default: { sqlite: sql("CURRENT_TIMESTAMP"), postgresql: sql("now()") } },
 *       ],
 *       indexes: [
 *         { name: "ix_flow_name", columns: ["name"] },
 *         { name: "trgm_ix_flow_name", columns: ["name"], using: "gin",
 *           opclass: { name: "gin_trgm_ops" }, dialects: ["postgresql"] },
 *       ],
 *     }),
 *   ],
 * });
 * ```
 *
 * @module
 */

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
import { constraintName, sortedByName } from "./model.ts";
import type { IndexColumn, TypeBuilder } from "../ops/operations.ts";
import type { ColumnType, DefaultValue, ReferentialAction } from "../ops/types.ts";
import { createTypeBuilder } from "../ops/build.ts";
import type { DialectName } from "../revision/revision.ts";

/** A value that may differ per dialect: the value itself, or one per dialect. */
export type PerDialect<T> = T | { readonly sqlite?: T; readonly postgresql?: T };

/** Restricts a definition to some dialects (absent: all). */
export interface DialectScoped {
  /** The dialects that have this object, e.g. `["postgresql"]`; absent: all. */
  readonly dialects?: readonly DialectName[];
}

/** A column of a table definition. */
export interface ColumnDefinition extends DialectScoped {
  /** The column's name. */
  readonly name: string;
  /** A portable type from `t`, or one per dialect (`{ sqlite: t.text(), postgresql: ... }`). */
  readonly type: PerDialect<ColumnType>;
  /** Default true, as in SQL (a primary key column is never nullable). */
  readonly nullable?: boolean;
  /** Part of the primary key; several flagged columns make a composite key. */
  readonly primaryKey?: boolean;
  /** SQLite `AUTOINCREMENT` / PostgreSQL identity, on an integer primary key. */
  readonly autoincrement?: boolean;
  /** A single-column UNIQUE constraint. */
  readonly unique?: boolean;
  /** The server default; `sql("...")` for an SQL expression. */
  readonly default?: PerDialect<DefaultValue>;
  /** An inline foreign key to one column of `table`. */
  readonly references?: {
    readonly table: string;
    readonly column: string;
    readonly onDelete?: ReferentialAction;
    readonly onUpdate?: ReferentialAction;
    readonly name?: string;
  };
  /** A column CHECK expression, in SQL. */
  readonly check?: PerDialect<string>;
  /** A collation, e.g. `{ sqlite: "NOCASE" }` or `"C"` (PostgreSQL). */
  readonly collate?: PerDialect<string>;
}

/** A table-level UNIQUE constraint of a table definition. */
export interface UniqueDefinition extends DialectScoped {
  /** The constraint's name; without one the database chooses it. */
  readonly name?: string;
  /** The columns whose combined values must be unique. */
  readonly columns: readonly string[];
}

/** A table-level CHECK constraint of a table definition. */
export interface CheckDefinition extends DialectScoped {
  /** The constraint's name; without one the database chooses it. */
  readonly name?: string;
  /** The condition in SQL, without `CHECK (...)`; may differ per dialect. */
  readonly expression: PerDialect<string>;
}

/** A table-level foreign key of a table definition. */
export interface ForeignKeyDefinition extends DialectScoped {
  /** The constraint's name; without one the database chooses it. */
  readonly name?: string;
  /** The referencing columns, in the order of `refColumns`. */
  readonly columns: readonly string[];
  /** The referenced (parent) table. */
  readonly refTable: string;
  /** The referenced columns of `refTable`. */
  readonly refColumns: readonly string[];
  /** What deleting a parent row does (default `NO ACTION`). */
  readonly onDelete?: ReferentialAction;
  /** What changing a parent's key does (default `NO ACTION`). */
  readonly onUpdate?: ReferentialAction;
}

/** An index of a table definition. */
export interface IndexDefinition extends DialectScoped {
  /** The index's name (compared by name unless `compareIndexExpressions`). */
  readonly name: string;
  /** Column names, or `{ expression: "lower(name)" }`. */
  readonly columns: readonly IndexColumn[];
  /** A UNIQUE index. */
  readonly unique?: boolean;
  /** A partial index's predicate, in SQL; may differ per dialect. */
  readonly where?: PerDialect<string>;
  /** PostgreSQL `INCLUDE` (dropped on SQLite). */
  readonly include?: readonly string[];
  /** Access method; anything but btree makes the index PostgreSQL-only. */
  readonly using?: string;
  /** Operator class per column or expression; a trigram class makes it PostgreSQL-only. */
  readonly opclass?: Readonly<Record<string, string>>;
}

/** A table: its columns and constraints. */
export interface TableDefinition extends DialectScoped {
  /** The table's name. */
  readonly name: string;
  /** The columns, in table order. */
  readonly columns: readonly ColumnDefinition[];
  /** A composite primary key (or use `primaryKey: true` on one column). */
  readonly primaryKey?: { readonly columns: readonly string[]; readonly name?: string };
  /** Table-level UNIQUE constraints. */
  readonly uniques?: readonly UniqueDefinition[];
  /** Table-level CHECK constraints. */
  readonly checks?: readonly CheckDefinition[];
  /** Table-level (e.g. composite) foreign keys. */
  readonly foreignKeys?: readonly ForeignKeyDefinition[];
  /** The table's explicit indexes. */
  readonly indexes?: readonly IndexDefinition[];
}

/** An enum type declared by itself (enums used by columns are collected anyway). */
export interface EnumDefinition {
  /** The type's name (PostgreSQL `CREATE TYPE`; SQLite has none, only column CHECKs). */
  readonly name: string;
  /** The values, in order. */
  readonly values: readonly string[];
}

/** What a schema function returns. */
export interface SchemaDefinition {
  /** Every table the database should have (strata's own tables are never compared). */
  readonly tables: readonly TableDefinition[];
  /** Enum types to declare even where no column uses them. */
  readonly enums?: readonly EnumDefinition[];
  /** Indexes declared apart from their table. */
  readonly indexes?: readonly (IndexDefinition & { readonly table: string })[];
}

/** What a schema function receives. */
export interface SchemaBuilder {
  /** The column type builder migrations get as `t`. */
  readonly t: TypeBuilder;
  /**
   * A table definition (returns it, typed).
   *
   * @param name The table's name.
   * @param spec Its columns, constraints and indexes.
   * @returns The table definition.
   */
  table(name: string, spec: Omit<TableDefinition, "name">): TableDefinition;
  /** A default written as SQL: `sql("CURRENT_TIMESTAMP")`. */
  sql(text: string): { readonly raw: string };
}

/** The default export of a `schema.ts` module. */
export type SchemaFunction = (builder: SchemaBuilder) => SchemaDefinition;

/** The builder handed to a schema function. */
export function createSchemaBuilder(): SchemaBuilder {
  return Object.freeze({
    t: createTypeBuilder(),
    table: (name: string, spec: Omit<TableDefinition, "name">): TableDefinition => ({
      name,
      ...spec,
    }),
    sql: (text: string) => Object.freeze({ raw: text }),
  });
}

/**
 * Call a schema module's default export (or take a definition as it is).
 *
 * @example
 * ```ts
 * import { loadSchemaDefinition } from "./schema.ts";
 * const def = loadSchemaDefinition(({ t, table }) => ({
 *   tables: [table("flow", { columns: [{ name: "id", type: t.integer(), primaryKey: true }] })],
 * }));
 * def.tables[0].name; // "flow"
 * ```
 */
export function loadSchemaDefinition(
  source: SchemaFunction | SchemaDefinition | { readonly default: unknown },
): SchemaDefinition {
  let value: unknown = source;
  if (typeof value === "object" && value !== null && "default" in value) {
    value = (value as { default: unknown }).default;
  }
  if (typeof value === "function") value = (value as SchemaFunction)(createSchemaBuilder());
  if (
    typeof value !== "object" || value === null ||
    !Array.isArray((value as SchemaDefinition).tables)
  ) {
    throw new TypeError(
      "Cannot load the schema definition: its default export must be a function returning " +
        "{ tables: [...] }",
    );
  }
  return value as SchemaDefinition;
}

const DIALECT_KEYS = new Set(["sqlite", "postgresql"]);

function isPerDialectObject(value: unknown): value is { sqlite?: unknown; postgresql?: unknown } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => DIALECT_KEYS.has(key));
}

/** The value of a {@link PerDialect} for one dialect (undefined when that dialect has none). */
export function forDialect<T>(
  value: PerDialect<T> | undefined,
  dialect: DialectName,
): T | undefined {
  if (isPerDialectObject(value)) return (value as Record<string, T | undefined>)[dialect];
  return value as T | undefined;
}

function applies(scoped: DialectScoped, dialect: DialectName): boolean {
  return scoped.dialects === undefined || scoped.dialects.includes(dialect);
}

/** Index features SQLite has no form for; such an index exists on PostgreSQL only. */
function postgresOnlyIndex(index: IndexDefinition): boolean {
  const using = index.using?.toLowerCase();
  if (using !== undefined && using !== "btree") return true;
  return Object.values(index.opclass ?? {}).some((name) => /trgm/i.test(name));
}

/** Error for a definition that contradicts itself. */
export class SchemaDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SchemaDefinitionError";
  }
}

/**
 * The model of a definition for one dialect: dialect-scoped parts picked or left out, column
 * shorthands lifted to the table, enums collected from the columns that use them (PostgreSQL).
 *
 * @example
 * ```ts
 * import { definitionToModel } from "./schema.ts";
 * const model = definitionToModel(({ t, table }) => ({
 *   tables: [table("flow", {
 *     columns: [{ name: "id", type: t.integer(), primaryKey: true }],
 *     indexes: [{ name: "ix_gin", columns: ["id"], using: "gin" }],
 *   })],
 * }), "sqlite");
 * model.tables[0].indexes.length; // 0: a GIN index is PostgreSQL-only
 * ```
 */
export function definitionToModel(
  source: SchemaFunction | SchemaDefinition | { readonly default: unknown },
  dialect: DialectName,
): SchemaModel {
  const def = loadSchemaDefinition(source);
  const enums = new Map<string, EnumModel>();
  const addEnum = (name: string, values: readonly string[], where: string) => {
    const known = enums.get(name);
    if (known && known.values.join("\u0000") !== values.join("\u0000")) {
      throw new SchemaDefinitionError(
        `Cannot define enum ${name}: ${where} gives values (${values.join(", ")}) but it was ` +
          `defined with (${known.values.join(", ")})`,
      );
    }
    if (!known) enums.set(name, { name, values: [...values] });
  };
  for (const e of def.enums ?? []) addEnum(e.name, e.values, `enum ${e.name}`);

  const tableNames = new Set<string>();
  const tables: TableModel[] = [];
  for (const table of def.tables) {
    if (!applies(table, dialect)) continue;
    if (tableNames.has(table.name.toLowerCase())) {
      throw new SchemaDefinitionError(`Cannot define table ${table.name}: it is defined twice`);
    }
    tableNames.add(table.name.toLowerCase());
    const extraIndexes = (def.indexes ?? []).filter((index) =>
      index.table.toLowerCase() === table.name.toLowerCase()
    );
    tables.push(tableToModel(table, extraIndexes, dialect, addEnum));
  }
  for (const index of def.indexes ?? []) {
    if (!tableNames.has(index.table.toLowerCase()) && applies(index, dialect)) {
      throw new SchemaDefinitionError(
        `Cannot define index ${index.name}: table ${index.table} is not defined`,
      );
    }
  }
  const model: SchemaModel = {
    dialect,
    tables: sortedByName(tables),
    // SQLite has no enum types: each column carries its own CHECK.
    enums: dialect === "postgresql" ? sortedByName([...enums.values()]) : [],
  };
  if (dialect === "postgresql") refuseLongNames(model);
  return model;
}

/** PostgreSQL's limit on identifiers, in bytes (NAMEDATALEN - 1). */
const MAX_IDENTIFIER_BYTES = 63;

/**
 * PostgreSQL cuts longer names to 63 bytes without an error; the definition would then never
 * match the database, and the next autogenerate would drop and re-add columns (their data
 * lost). Refuse them instead.
 */
function refuseLongNames(model: SchemaModel): void {
  const check = (kind: string, name: string | undefined, where = "") => {
    if (name !== undefined && new TextEncoder().encode(name).length > MAX_IDENTIFIER_BYTES) {
      throw new SchemaDefinitionError(
        `Cannot define ${kind} ${name}${where}: PostgreSQL names are at most ` +
          `${MAX_IDENTIFIER_BYTES} bytes, and it would cut this one short; choose a shorter name`,
      );
    }
  };
  for (const e of model.enums) check("enum", e.name);
  for (const table of model.tables) {
    const on = ` on table ${table.name}`;
    check("table", table.name);
    for (const column of table.columns) check("column", column.name, on);
    check("primary key", table.primaryKey?.name, on);
    for (const c of table.uniques) check("unique constraint", c.name, on);
    for (const c of table.checks) check("check constraint", c.name, on);
    for (const c of table.foreignKeys) check("foreign key", c.name, on);
    for (const index of table.indexes) check("index", index.name, on);
  }
}

function tableToModel(
  table: TableDefinition,
  extraIndexes: readonly IndexDefinition[],
  dialect: DialectName,
  addEnum: (name: string, values: readonly string[], where: string) => void,
): TableModel {
  const columns: ColumnModel[] = [];
  const uniques: UniqueModel[] = [];
  const checks: CheckModel[] = [];
  const foreignKeys: ForeignKeyModel[] = [];
  const primaryColumns: string[] = [];
  for (const column of table.columns) {
    if (!applies(column, dialect)) continue;
    const type = forDialect(column.type, dialect);
    if (type === undefined) {
      throw new SchemaDefinitionError(
        `Cannot define column ${table.name}.${column.name}: it has no type for ${dialect}`,
      );
    }
    if (type.type === "enum") addEnum(type.name, type.values, `${table.name}.${column.name}`);
    const defaultValue = forDialect(column.default, dialect);
    const collation = forDialect(column.collate, dialect);
    columns.push({
      name: column.name,
      type,
      nullable: column.primaryKey ? false : column.nullable ?? true,
      ...(defaultValue === undefined || defaultValue === null ? {} : { default: defaultValue }),
      ...(collation === undefined ? {} : { collation }),
      autoincrement: column.autoincrement ?? false,
    });
    if (column.primaryKey) primaryColumns.push(column.name);
    if (column.unique) uniques.push({ columns: [column.name] });
    const check = forDialect(column.check, dialect);
    if (check !== undefined) checks.push({ expression: check });
    if (column.references) {
      const ref = column.references;
      foreignKeys.push({
        ...(ref.name === undefined ? {} : { name: ref.name }),
        columns: [column.name],
        refTable: ref.table,
        refColumns: [ref.column],
        onDelete: ref.onDelete ?? "NO ACTION",
        onUpdate: ref.onUpdate ?? "NO ACTION",
      });
    }
  }
  if (table.primaryKey && primaryColumns.length > 0) {
    throw new SchemaDefinitionError(
      `Cannot define table ${table.name}: it declares primaryKey and primaryKey: true on ` +
        `column ${primaryColumns.join(", ")}; use one`,
    );
  }
  for (const unique of table.uniques ?? []) {
    if (!applies(unique, dialect)) continue;
    uniques.push({
      ...(unique.name === undefined ? {} : { name: unique.name }),
      columns: [...unique.columns],
    });
  }
  for (const check of table.checks ?? []) {
    if (!applies(check, dialect)) continue;
    const expression = forDialect(check.expression, dialect);
    if (expression === undefined) continue;
    checks.push({ ...(check.name === undefined ? {} : { name: check.name }), expression });
  }
  for (const fk of table.foreignKeys ?? []) {
    if (!applies(fk, dialect)) continue;
    foreignKeys.push({
      ...(fk.name === undefined ? {} : { name: fk.name }),
      columns: [...fk.columns],
      refTable: fk.refTable,
      refColumns: [...fk.refColumns],
      onDelete: fk.onDelete ?? "NO ACTION",
      onUpdate: fk.onUpdate ?? "NO ACTION",
    });
  }
  const indexes: IndexModel[] = [];
  for (const index of [...(table.indexes ?? []), ...extraIndexes]) {
    if (!applies(index, dialect)) continue;
    if (dialect === "sqlite" && postgresOnlyIndex(index)) continue;
    indexes.push(indexToModel(index, dialect));
  }
  const primaryKey = table.primaryKey
    ? {
      ...(table.primaryKey.name === undefined ? {} : { name: table.primaryKey.name }),
      columns: [...table.primaryKey.columns],
    }
    : primaryColumns.length > 0
    ? { columns: primaryColumns }
    : undefined;
  if (primaryKey) {
    for (let i = 0; i < columns.length; i++) {
      if (primaryKey.columns.some((name) => name.toLowerCase() === columns[i].name.toLowerCase())) {
        columns[i] = { ...columns[i], nullable: false };
      }
    }
  }
  const draft: TableModel = {
    name: table.name,
    columns,
    ...(primaryKey ? { primaryKey } : {}),
    uniques,
    checks,
    foreignKeys,
    indexes: sortedByName(indexes),
  };
  // Unnamed constraints get the names they will have, so a later change can drop them.
  return {
    ...draft,
    uniques: uniques.map((u) => ({ ...u, name: constraintName("unique", draft, u, dialect) })),
    checks: checks.map((c) => ({ ...c, name: constraintName("check", draft, c, dialect) })),
    foreignKeys: foreignKeys.map((fk) => ({
      ...fk,
      name: constraintName("foreignKey", draft, fk, dialect),
    })),
  };
}

function indexToModel(index: IndexDefinition, dialect: DialectName): IndexModel {
  const where = forDialect(index.where, dialect);
  const using = index.using?.toLowerCase();
  // SQLite has no INCLUDE, access methods or operator classes: the renderer skips them there.
  const postgres = dialect === "postgresql";
  return {
    name: index.name,
    columns: index.columns.map((c) => typeof c === "string" ? c : { expression: c.expression }),
    unique: index.unique ?? false,
    ...(where === undefined ? {} : { where }),
    include: postgres ? [...(index.include ?? [])] : [],
    ...(postgres && using !== undefined && using !== "btree" ? { using } : {}),
    opclass: postgres ? { ...(index.opclass ?? {}) } : {},
  };
}
