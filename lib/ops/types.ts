/**
 * Portable column types, as frozen data. Each dialect renders them (see `lib/dialect/`).
 *
 * Migration files get the builder `t` in their context (`t.varchar(255)`,
 * `t.timestamp({ withTimeZone: true })`, `t.enum("state_type", [...])`), so they need no
 * runtime import of strata.
 *
 * @module
 */

/** A portable column type. */
export type ColumnType =
  | { readonly type: "integer" }
  | { readonly type: "bigint" }
  | { readonly type: "smallint" }
  | { readonly type: "float" }
  | { readonly type: "numeric"; readonly precision?: number; readonly scale?: number }
  | { readonly type: "boolean" }
  | { readonly type: "text" }
  | { readonly type: "varchar"; readonly length?: number }
  | { readonly type: "uuid" }
  | { readonly type: "json" }
  | { readonly type: "jsonb" }
  | { readonly type: "timestamp"; readonly withTimeZone: boolean }
  | { readonly type: "date" }
  | { readonly type: "interval" }
  | { readonly type: "blob" }
  | { readonly type: "enum"; readonly name: string; readonly values: readonly string[] }
  /** A type written out as the dialect spells it (escape hatch). */
  | { readonly type: "raw"; readonly sql: string };

/** A server default: a literal value, or SQL text used as is (`{ raw: "CURRENT_TIMESTAMP" }`). */
export type DefaultValue = string | number | boolean | null | { readonly raw: string };

/** Referential actions of a foreign key. */
export type ReferentialAction = "CASCADE" | "SET NULL" | "SET DEFAULT" | "RESTRICT" | "NO ACTION";

/** A column, as used by `createTable` and `addColumn`. */
export interface ColumnDef {
  /** The column's name, quoted in SQL only where needed. */
  readonly name: string;
  /** A portable type, built with the context's `t`, e.g. `t.varchar(255)`. */
  readonly type: ColumnType;
  /** Default true, as in SQL. */
  readonly nullable?: boolean;
  /**
   * Part of the primary key; implies NOT NULL unless `nullable: true`. Several flagged
   * columns make a composite key.
   */
  readonly primaryKey?: boolean;
  /** SQLite `AUTOINCREMENT` / PostgreSQL identity, on an integer primary key. */
  readonly autoincrement?: boolean;
  /** A single-column UNIQUE constraint. */
  readonly unique?: boolean;
  /** The server default, used when an insert omits the column. */
  readonly default?: DefaultValue;
  /** An inline foreign key to one column. */
  readonly references?: {
    readonly table: string;
    readonly column: string;
    readonly onDelete?: ReferentialAction;
    readonly onUpdate?: ReferentialAction;
    readonly name?: string;
  };
  /** A column CHECK expression. */
  readonly check?: string;
  /** A collation, e.g. `NOCASE` (SQLite) or `"C"` (PostgreSQL). */
  readonly collate?: string;
}
