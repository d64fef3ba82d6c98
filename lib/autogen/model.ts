/**
 * The schema model: one normalised description of a database schema, the same shape whether it
 * was read from a database (`introspect_sqlite.ts`, `introspect_postgres.ts`) or built from a
 * schema definition (`schema.ts`), so that `diff.ts` compares like with like.
 *
 * Shorthands are lifted to the table: a column's `unique`, `references` and `check` become
 * entries of `uniques`, `foreignKeys` and `checks`; a single-column primary key is the table's
 * `primaryKey`. Types are portable {@link ColumnType}s; a type strata does not know stays
 * `{ type: "raw" }` with the dialect's spelling. Defaults are {@link DefaultValue}s (reflected
 * ones are `{ raw: "<SQL as the database reports it>" }`). Lists are sorted by name where the
 * order carries no meaning, so two models of the same schema are deeply equal.
 *
 * @module
 */

import type { IndexColumn } from "../ops/operations.ts";
import type { ColumnType, DefaultValue, ReferentialAction } from "../ops/types.ts";
import type { DialectName } from "../revision/revision.ts";
import { identifierOf, tokenize } from "../sql/lexer.ts";

/** A whole schema, for one dialect. */
export interface SchemaModel {
  /** The dialect the model describes (types and defaults are spelled for it). */
  readonly dialect: DialectName;
  /** Sorted by name. */
  readonly tables: readonly TableModel[];
  /** Named enum types (PostgreSQL); empty on SQLite, where an enum is a CHECK on its column. */
  readonly enums: readonly EnumModel[];
}

/** A named enum type with its values in order. */
export interface EnumModel {
  /** The type's name. */
  readonly name: string;
  /** The values, in their declared order. */
  readonly values: readonly string[];
}

/** A table and everything that belongs to it. */
export interface TableModel {
  /** The table's name. */
  readonly name: string;
  /** In table order. */
  readonly columns: readonly ColumnModel[];
  /** The primary key, single-column ones included; absent when the table has none. */
  readonly primaryKey?: PrimaryKeyModel;
  /** UNIQUE constraints, column shorthands included. */
  readonly uniques: readonly UniqueModel[];
  /** CHECK constraints, column shorthands included (SQLite enum CHECKs are part of the type). */
  readonly checks: readonly CheckModel[];
  /** Foreign keys, inline `references` included. */
  readonly foreignKeys: readonly ForeignKeyModel[];
  /** Explicit indexes only (not those backing a primary key or unique constraint); by name. */
  readonly indexes: readonly IndexModel[];
}

/** A column. */
export interface ColumnModel {
  /** The column's name. */
  readonly name: string;
  /** The portable type; `raw` with the dialect's spelling for a type strata does not know. */
  readonly type: ColumnType;
  /** False for NOT NULL (primary key columns included). */
  readonly nullable: boolean;
  /** The server default; a reflected one is `{ raw: "<SQL as the database reports it>" }`. */
  readonly default?: DefaultValue;
  /** A collation other than the type's default (`NOCASE`, `C`). */
  readonly collation?: string;
  /** SQLite `AUTOINCREMENT` or a PostgreSQL identity / serial column. */
  readonly autoincrement: boolean;
}

/** A table's primary key. */
export interface PrimaryKeyModel {
  /** The constraint's name; absent for an unnamed one (SQLite, or a definition naming none). */
  readonly name?: string;
  /** The key's columns, in key order. */
  readonly columns: readonly string[];
}

/** A UNIQUE constraint. */
export interface UniqueModel {
  /** The constraint's name; absent for an unnamed one (SQLite, or a definition naming none). */
  readonly name?: string;
  /** The constrained columns, in order. */
  readonly columns: readonly string[];
}

/** A CHECK constraint. */
export interface CheckModel {
  /** The constraint's name; absent for an unnamed one (SQLite, or a definition naming none). */
  readonly name?: string;
  /** The expression without the surrounding `CHECK (...)`. */
  readonly expression: string;
}

/** A foreign key. */
export interface ForeignKeyModel {
  /** The constraint's name; absent for an unnamed one (SQLite, or a definition naming none). */
  readonly name?: string;
  /** The referencing columns, in the order of `refColumns`. */
  readonly columns: readonly string[];
  /** The referenced (parent) table. */
  readonly refTable: string;
  /** The referenced columns. */
  readonly refColumns: readonly string[];
  /** `NO ACTION` when the database or the definition says nothing. */
  readonly onDelete: ReferentialAction;
  /** As `onDelete`, for key updates. */
  readonly onUpdate: ReferentialAction;
}

/** An explicit index. */
export interface IndexModel {
  /** The index's name. */
  readonly name: string;
  /** Column names or `{ expression }`s, in index order. */
  readonly columns: readonly IndexColumn[];
  /** A UNIQUE index. */
  readonly unique: boolean;
  /** A partial index's predicate. */
  readonly where?: string;
  /** Covering columns (PostgreSQL `INCLUDE`). */
  readonly include: readonly string[];
  /** The access method when it is not the default (`gin`, `gist`); undefined for btree. */
  readonly using?: string;
  /** Non-default operator classes, keyed by column name or expression text. */
  readonly opclass: Readonly<Record<string, string>>;
}

/** The key names are matched by: SQLite folds case, and PostgreSQL folds unquoted names. */
export function nameKey(name: string): string {
  return name.toLowerCase();
}

/** Find by name, case-insensitively. */
export function byName<T extends { readonly name: string }>(
  items: readonly T[],
  name: string,
): T | undefined {
  const key = nameKey(name);
  return items.find((item) => nameKey(item.name) === key);
}

/** Sort by name (stable, case-insensitive) without changing the input. */
export function sortedByName<T extends { readonly name: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => {
    const x = nameKey(a.name);
    const y = nameKey(b.name);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** The tables strata keeps for itself, never part of a user's schema. */
export const STRATA_TABLES: readonly string[] = Object.freeze(["alembic_version", "strata_log"]);

/** True for a table strata owns or leaves behind (`_strata_tmp_*` of a failed rebuild). */
export function isStrataTable(name: string, versionTable = "alembic_version"): boolean {
  const key = nameKey(name);
  return key === nameKey(versionTable) || STRATA_TABLES.includes(key) ||
    key.startsWith("_strata_tmp_");
}

/** What kind of object the include hook is asked about. */
export type SchemaObjectKind =
  | "table"
  | "column"
  | "index"
  | "unique"
  | "check"
  | "foreignKey"
  | "enum";

/** Any object of a model, as handed to the include hook. */
export type SchemaObject =
  | TableModel
  | ColumnModel
  | IndexModel
  | UniqueModel
  | CheckModel
  | ForeignKeyModel
  | EnumModel;

/**
 * Alembic's `include_object`: return false to leave an object out of the comparison.
 * `reflected` is true for an object of the database; `compareTo` is its counterpart in the
 * other model, when there is one.
 */
export type IncludeObject = (
  object: SchemaObject,
  name: string | undefined,
  kind: SchemaObjectKind,
  reflected: boolean,
  compareTo: SchemaObject | undefined,
) => boolean;

/** The columns an expression names, among the table's columns. */
function columnsMentioned(table: TableModel, expression: string): string[] {
  const names = new Set<string>();
  for (const token of tokenize(expression)) {
    const id = identifierOf(token);
    if (id === undefined) continue;
    const column = byName(table.columns, id);
    if (column) names.add(column.name);
  }
  return [...names];
}

/**
 * The name of a constraint: its own, or the one strata gives a definition's unnamed constraint
 * so that a later migration (and a downgrade) can drop it by name. On PostgreSQL that is the
 * name PostgreSQL itself would choose (`flow_name_key`, `flow_parent_id_fkey`,
 * `flow_n_check`, `flow_pkey`); SQLite keeps unnamed constraints nameless, so there strata
 * uses `uq_<table>_<columns>`, `fk_<table>_<columns>_<parent>`, `ck_<table>_<column or n>`.
 */
export function constraintName(
  kind: "unique" | "check" | "foreignKey" | "primaryKey",
  table: TableModel,
  item: UniqueModel | CheckModel | ForeignKeyModel | { name?: string; columns: readonly string[] },
  dialect: DialectName,
): string {
  if (item.name !== undefined) return item.name;
  const t = table.name;
  if (dialect === "postgresql") {
    switch (kind) {
      case "primaryKey":
        return `${t}_pkey`;
      case "unique":
        return `${t}_${(item as UniqueModel).columns.join("_")}_key`;
      case "foreignKey":
        return `${t}_${(item as ForeignKeyModel).columns.join("_")}_fkey`;
      case "check": {
        const mentioned = columnsMentioned(table, (item as CheckModel).expression);
        return mentioned.length === 1 ? `${t}_${mentioned[0]}_check` : `${t}_check`;
      }
    }
  }
  switch (kind) {
    case "primaryKey":
      return `pk_${t}`;
    case "unique":
      return `uq_${t}_${(item as UniqueModel).columns.join("_")}`;
    case "foreignKey":
      return `fk_${t}_${(item as ForeignKeyModel).columns.join("_")}_${
        (item as ForeignKeyModel).refTable
      }`;
    case "check": {
      const mentioned = columnsMentioned(table, (item as CheckModel).expression);
      const index = table.checks.indexOf(item as CheckModel);
      return `ck_${t}_${mentioned.length === 1 ? mentioned[0] : String(index + 1)}`;
    }
  }
}
