/**
 * A schema model as stable text or JSON, for `strata schema dump [--json]`: the same schema
 * always dumps to the same bytes, so dumps can be committed and compared with `diff`.
 *
 * Types are written as the model's dialect spells them; names are sorted where order carries
 * no meaning (tables, indexes, constraints), columns keep table order.
 *
 * @module
 */

import type { ColumnModel, IndexModel, SchemaModel, TableModel } from "./model.ts";
import { sortedByName } from "./model.ts";
import { getDialect } from "../dialect/dialect.ts";
import { renderDefault } from "../dialect/ddl.ts";
import { SQLITE_LITERALS } from "../dialect/sqlite.ts";
import { POSTGRES_LITERALS } from "../dialect/postgres.ts";
import { quoteLiteral } from "../dialect/quote.ts";

function columnLine(column: ColumnModel, model: SchemaModel): string {
  const dialect = getDialect(model.dialect);
  const type = column.type.type === "enum" && model.dialect === "sqlite"
    ? `${dialect.renderType(column.type)} ENUM (${column.type.values.map(quoteLiteral).join(", ")})`
    : dialect.renderType(column.type);
  const parts = [`column ${column.name} ${type}`];
  if (!column.nullable) parts.push("NOT NULL");
  if (column.autoincrement) parts.push("AUTOINCREMENT");
  if (column.default !== undefined) {
    const literals = model.dialect === "sqlite" ? SQLITE_LITERALS : POSTGRES_LITERALS;
    parts.push(`DEFAULT ${renderDefault(column.default, literals)}`);
  }
  if (column.collation !== undefined) parts.push(`COLLATE ${column.collation}`);
  return parts.join(" ");
}

function indexLine(index: IndexModel): string {
  const columns = index.columns.map((c) => typeof c === "string" ? c : `(${c.expression})`);
  const opclass = Object.entries(index.opclass).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
    .map(([column, name]) => `${column} ${name}`);
  return [
    `${index.unique ? "unique index" : "index"} ${index.name} (${columns.join(", ")})`,
    ...(index.using ? [`USING ${index.using}`] : []),
    ...(index.include.length ? [`INCLUDE (${index.include.join(", ")})`] : []),
    ...(opclass.length ? [`OPCLASS (${opclass.join(", ")})`] : []),
    ...(index.where ? [`WHERE ${index.where}`] : []),
  ].join(" ");
}

function sortedBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...items].sort((a, b) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

function tableLines(table: TableModel, model: SchemaModel): string[] {
  const lines = [`table ${table.name}`];
  for (const column of table.columns) lines.push(`  ${columnLine(column, model)}`);
  const name = (n: string | undefined) => n === undefined ? "" : ` ${n}`;
  if (table.primaryKey) {
    lines.push(
      `  primary key${name(table.primaryKey.name)} (${table.primaryKey.columns.join(", ")})`,
    );
  }
  for (const unique of sortedBy(table.uniques, (u) => u.columns.join(","))) {
    lines.push(`  unique${name(unique.name)} (${unique.columns.join(", ")})`);
  }
  for (const check of sortedBy(table.checks, (c) => `${c.name ?? ""}\u0000${c.expression}`)) {
    lines.push(`  check${name(check.name)} (${check.expression})`);
  }
  for (const fk of sortedBy(table.foreignKeys, (f) => `${f.columns.join(",")}>${f.refTable}`)) {
    lines.push(
      `  foreign key${name(fk.name)} (${fk.columns.join(", ")}) references ${fk.refTable} (${
        fk.refColumns.join(", ")
      })` +
        (fk.onDelete === "NO ACTION" ? "" : ` ON DELETE ${fk.onDelete}`) +
        (fk.onUpdate === "NO ACTION" ? "" : ` ON UPDATE ${fk.onUpdate}`),
    );
  }
  for (const index of sortedByName(table.indexes)) lines.push(`  ${indexLine(index)}`);
  return lines;
}

/**
 * The model as text: one block per enum and table.
 *
 * @example
 * ```ts
 * import { dumpText } from "./dump.ts";
 * dumpText({ dialect: "sqlite", enums: [], tables: [] }); // "-- sqlite schema\n"
 * ```
 */
export function dumpText(model: SchemaModel): string {
  const lines = [`-- ${model.dialect} schema`];
  for (const e of sortedByName(model.enums)) {
    lines.push(`enum ${e.name} (${e.values.map(quoteLiteral).join(", ")})`);
  }
  for (const table of sortedByName(model.tables)) lines.push("", ...tableLines(table, model));
  return lines.join("\n") + "\n";
}

/** A copy with object keys sorted, so JSON output does not depend on construction order. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.keys(value).sort().map((
      key,
    ) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

/**
 * The model as JSON (keys sorted, two-space indent, final newline).
 *
 * @example
 * ```ts
 * import { dumpJson } from "./dump.ts";
 * JSON.parse(dumpJson({ dialect: "sqlite", enums: [], tables: [] })).dialect; // "sqlite"
 * ```
 */
export function dumpJson(model: SchemaModel): string {
  const normalised: SchemaModel = {
    dialect: model.dialect,
    enums: sortedByName(model.enums),
    tables: sortedByName(model.tables).map((table) => ({
      ...table,
      uniques: sortedBy(table.uniques, (u) => u.columns.join(",")),
      checks: sortedBy(table.checks, (c) => `${c.name ?? ""}\u0000${c.expression}`),
      foreignKeys: sortedBy(table.foreignKeys, (f) => `${f.columns.join(",")}>${f.refTable}`),
      indexes: sortedByName(table.indexes),
    })),
  };
  return JSON.stringify(sortKeys(normalised), null, 2) + "\n";
}
