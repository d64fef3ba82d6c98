/**
 * Builders of frozen data: the column type builder `t` and one constructor per operation.
 *
 * Both the `op` API of a migration's context and autogenerate build operations here, so an
 * operation always has the same shape however it was made: a `kind`, its fields, an `options`
 * object where the kind has options, and nothing mutable.
 *
 * @module
 */

import type {
  AlterColumnChanges,
  CheckConstraint,
  CreateTableOptions,
  ForeignKeyConstraint,
  IndexColumn,
  IndexOptions,
  Operation,
  TypeBuilder,
  UniqueConstraint,
} from "./operations.ts";
import type { ColumnDef, ColumnType } from "./types.ts";
import type { Row } from "./executor.ts";

/** Freeze a plain value and everything reachable from it. */
export function deepFreeze<T>(value: T): T {
  // Typed arrays (bytes in bulkInsert rows) cannot be frozen; they are data, left as they are.
  if (
    value !== null && typeof value === "object" && !ArrayBuffer.isView(value) &&
    !Object.isFrozen(value)
  ) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** Copies then freezes, so the caller's objects stay theirs to change. */
function frozen<T>(value: T): T {
  return deepFreeze(structuredClone(value));
}

/**
 * The column type builder handed to migrations as `t`.
 *
 * @example
 * ```ts
 * import { createTypeBuilder } from "./build.ts";
 * const t = createTypeBuilder();
 * t.varchar(255); // { type: "varchar", length: 255 }
 * ```
 */
export function createTypeBuilder(): TypeBuilder {
  const simple = <K extends ColumnType["type"]>(type: K) => () => frozen({ type }) as ColumnType;
  return Object.freeze({
    integer: simple("integer"),
    bigint: simple("bigint"),
    smallint: simple("smallint"),
    float: simple("float"),
    numeric: (precision?: number, scale?: number) =>
      frozen({
        type: "numeric" as const,
        ...(precision === undefined ? {} : { precision }),
        ...(scale === undefined ? {} : { scale }),
      }),
    boolean: simple("boolean"),
    text: simple("text"),
    varchar: (length?: number) =>
      frozen({ type: "varchar" as const, ...(length === undefined ? {} : { length }) }),
    uuid: simple("uuid"),
    json: simple("json"),
    jsonb: simple("jsonb"),
    timestamp: (options?: { withTimeZone?: boolean }) =>
      frozen({ type: "timestamp" as const, withTimeZone: options?.withTimeZone ?? false }),
    date: simple("date"),
    interval: simple("interval"),
    blob: simple("blob"),
    enum: (name: string, values: readonly string[]) =>
      frozen({ type: "enum" as const, name, values: [...values] }),
    raw: (sql: string) => frozen({ type: "raw" as const, sql }),
  });
}

/**
 * Constructors of {@link Operation} values, one per kind, mirroring the `op` API.
 *
 * @example
 * ```ts
 * import { operation } from "./build.ts";
 * const op = operation.renameTable("flow", "flows");
 * Object.isFrozen(op); // true
 * ```
 */
export const operation = Object.freeze({
  createTable(
    table: string,
    columns: readonly ColumnDef[],
    options: CreateTableOptions = {},
  ): Operation {
    return frozen({ kind: "createTable", table, columns, options });
  },
  dropTable(table: string, options: { ifExists?: boolean } = {}): Operation {
    return frozen({ kind: "dropTable", table, ...pick(options, "ifExists") });
  },
  renameTable(from: string, to: string): Operation {
    return frozen({ kind: "renameTable", from, to });
  },
  addColumn(table: string, column: ColumnDef): Operation {
    return frozen({ kind: "addColumn", table, column });
  },
  dropColumn(table: string, column: string): Operation {
    return frozen({ kind: "dropColumn", table, column });
  },
  alterColumn(table: string, column: string, changes: AlterColumnChanges): Operation {
    return frozen({ kind: "alterColumn", table, column, changes });
  },
  createPrimaryKey(table: string, columns: readonly string[], name?: string): Operation {
    return frozen({
      kind: "createPrimaryKey",
      table,
      columns,
      ...(name === undefined ? {} : { name }),
    });
  },
  createUnique(table: string, constraint: UniqueConstraint): Operation {
    return frozen({ kind: "createUnique", table, constraint });
  },
  createCheck(table: string, constraint: CheckConstraint): Operation {
    return frozen({ kind: "createCheck", table, constraint });
  },
  createForeignKey(table: string, constraint: ForeignKeyConstraint): Operation {
    return frozen({ kind: "createForeignKey", table, constraint });
  },
  dropConstraint(table: string, name: string): Operation {
    return frozen({ kind: "dropConstraint", table, name });
  },
  createIndex(
    name: string,
    table: string,
    columns: readonly IndexColumn[],
    options: IndexOptions = {},
  ): Operation {
    return frozen({ kind: "createIndex", name, table, columns, options });
  },
  dropIndex(
    name: string,
    options: { table?: string; concurrently?: boolean; ifExists?: boolean } = {},
  ): Operation {
    return frozen({
      kind: "dropIndex",
      name,
      ...pick(options, "table", "concurrently", "ifExists"),
    });
  },
  createEnum(name: string, values: readonly string[]): Operation {
    return frozen({ kind: "createEnum", name, values });
  },
  dropEnum(name: string, options: { ifExists?: boolean } = {}): Operation {
    return frozen({ kind: "dropEnum", name, ...pick(options, "ifExists") });
  },
  addEnumValue(
    name: string,
    value: string,
    options: { before?: string; after?: string; ifNotExists?: boolean } = {},
  ): Operation {
    return frozen({
      kind: "addEnumValue",
      name,
      value,
      ...pick(options, "before", "after", "ifNotExists"),
    });
  },
  execute(sql: string, params?: readonly unknown[]): Operation {
    // Parameters may hold values structuredClone refuses (none in practice), so freeze a copy.
    return deepFreeze({
      kind: "execute",
      sql,
      ...(params === undefined ? {} : { params: [...params] }),
    });
  },
  bulkInsert(table: string, rows: readonly Row[]): Operation {
    return deepFreeze({ kind: "bulkInsert", table, rows: rows.map((row) => ({ ...row })) });
  },
  batch(table: string, operations: readonly Operation[]): Operation {
    return frozen({ kind: "batch", table, operations });
  },
});

/** The defined fields of an options object (absent options stay absent in the data). */
function pick<T extends object, K extends keyof T>(options: T, ...keys: K[]): Partial<T> {
  const out: Partial<T> = {};
  for (const key of keys) if (options[key] !== undefined) out[key] = options[key];
  return out;
}
