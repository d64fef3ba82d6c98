/**
 * The operations API: what a TypeScript migration calls as `op`, and the data each call becomes.
 *
 * Every call builds one frozen {@link Operation} (a `kind` plus fields); rendering it is a
 * function of (operation, dialect) in `lib/dialect/`. This file is the contract shared by the
 * renderer, the runner, the reference schema and autogenerate: change it with care.
 *
 * @module
 */

import type { ColumnDef, ColumnType, DefaultValue, ReferentialAction } from "./types.ts";
import type { DialectName } from "../revision/revision.ts";
import type { Row } from "./executor.ts";

export type { Row };

/** A column of an index: a column name, or an expression written in SQL. */
export type IndexColumn = string | { readonly expression: string };

/** Options of `createTable` beyond its columns. */
export interface CreateTableOptions {
  /** A composite primary key (otherwise use `primaryKey: true` on a column). */
  readonly primaryKey?: { readonly columns: readonly string[]; readonly name?: string };
  /** Table-level UNIQUE constraints (a column's `unique: true` covers one column). */
  readonly uniques?: readonly UniqueConstraint[];
  /** Table-level CHECK constraints. */
  readonly checks?: readonly CheckConstraint[];
  /** Table-level foreign keys, e.g. composite ones a column's `references` cannot express. */
  readonly foreignKeys?: readonly ForeignKeyConstraint[];
  /** Write `CREATE TABLE IF NOT EXISTS`: no error, and no change, when the table exists. */
  readonly ifNotExists?: boolean;
}

/** A UNIQUE constraint over one or more columns. */
export interface UniqueConstraint {
  /** The constraint's name; without one the database chooses it (needed to drop it later). */
  readonly name?: string;
  /** The columns whose combined values must be unique, in order. */
  readonly columns: readonly string[];
}

/** A CHECK constraint; `expression` is SQL, written for the migration's dialect. */
export interface CheckConstraint {
  /** The constraint's name; without one the database chooses it (needed to drop it later). */
  readonly name?: string;
  /** The condition, without the surrounding `CHECK (...)`, e.g. `price >= 0`. */
  readonly expression: string;
}

/** A table-level FOREIGN KEY from `columns` to `refTable(refColumns)`. */
export interface ForeignKeyConstraint {
  /** The constraint's name; without one the database chooses it (needed to drop it later). */
  readonly name?: string;
  /** The referencing columns of this table, in the order of `refColumns`. */
  readonly columns: readonly string[];
  /** The referenced (parent) table. */
  readonly refTable: string;
  /** The referenced columns, a primary key or unique constraint of `refTable`. */
  readonly refColumns: readonly string[];
  /** What deleting a parent row does; the database's default (`NO ACTION`) when absent. */
  readonly onDelete?: ReferentialAction;
  /** What changing a parent's key does; the database's default (`NO ACTION`) when absent. */
  readonly onUpdate?: ReferentialAction;
}

/** Options of `createIndex`. */
export interface IndexOptions {
  /** Write `CREATE UNIQUE INDEX`. */
  readonly unique?: boolean;
  /** A partial index's predicate, in SQL. */
  readonly where?: string;
  /** Covering columns (PostgreSQL `INCLUDE`; skipped on SQLite). */
  readonly include?: readonly string[];
  /** Access method (PostgreSQL `USING gin`; skipped on SQLite). */
  readonly using?: string;
  /** Operator class per column, e.g. `{ name: "gin_trgm_ops" }` (PostgreSQL only). */
  readonly opclass?: Readonly<Record<string, string>>;
  /** PostgreSQL `CONCURRENTLY`: needs a non-transactional migration. */
  readonly concurrently?: boolean;
  /** Write `IF NOT EXISTS`: no error, and no change, when an index of that name exists. */
  readonly ifNotExists?: boolean;
}

/** Changes of `alterColumn`; an absent field is left as it is. */
export interface AlterColumnChanges {
  /** The new type; existing values are converted by the database (see `using`). */
  readonly type?: ColumnType;
  /** `false` adds NOT NULL (fails while NULLs remain); `true` drops it. */
  readonly nullable?: boolean;
  /** `null` drops the default. */
  readonly default?: DefaultValue;
  /** Renames the column, after the other changes. The one change SQLite makes outside a batch. */
  readonly newName?: string;
  /** PostgreSQL `USING` expression for a type change. */
  readonly using?: string;
}

/** One schema or data change, as frozen data. */
export type Operation =
  | {
    readonly kind: "createTable";
    readonly table: string;
    readonly columns: readonly ColumnDef[];
    readonly options: CreateTableOptions;
  }
  | { readonly kind: "dropTable"; readonly table: string; readonly ifExists?: boolean }
  | { readonly kind: "renameTable"; readonly from: string; readonly to: string }
  | { readonly kind: "addColumn"; readonly table: string; readonly column: ColumnDef }
  | { readonly kind: "dropColumn"; readonly table: string; readonly column: string }
  | {
    readonly kind: "alterColumn";
    readonly table: string;
    readonly column: string;
    readonly changes: AlterColumnChanges;
  }
  | {
    readonly kind: "createPrimaryKey";
    readonly table: string;
    readonly name?: string;
    readonly columns: readonly string[];
  }
  | { readonly kind: "createUnique"; readonly table: string; readonly constraint: UniqueConstraint }
  | { readonly kind: "createCheck"; readonly table: string; readonly constraint: CheckConstraint }
  | {
    readonly kind: "createForeignKey";
    readonly table: string;
    readonly constraint: ForeignKeyConstraint;
  }
  | { readonly kind: "dropConstraint"; readonly table: string; readonly name: string }
  | {
    readonly kind: "createIndex";
    readonly name: string;
    readonly table: string;
    readonly columns: readonly IndexColumn[];
    readonly options: IndexOptions;
  }
  | {
    readonly kind: "dropIndex";
    readonly name: string;
    readonly table?: string;
    readonly concurrently?: boolean;
    readonly ifExists?: boolean;
  }
  | { readonly kind: "createEnum"; readonly name: string; readonly values: readonly string[] }
  | { readonly kind: "dropEnum"; readonly name: string; readonly ifExists?: boolean }
  | {
    readonly kind: "addEnumValue";
    readonly name: string;
    readonly value: string;
    readonly before?: string;
    readonly after?: string;
    readonly ifNotExists?: boolean;
  }
  | { readonly kind: "execute"; readonly sql: string; readonly params?: readonly unknown[] }
  | { readonly kind: "bulkInsert"; readonly table: string; readonly rows: readonly Row[] }
  | { readonly kind: "batch"; readonly table: string; readonly operations: readonly Operation[] };

/** The operations a `batchAlterTable` callback may collect (all on the batch's table). */
export interface BatchOperations {
  /** Adds a column; in a batch any column can be added (NOT NULL, UNIQUE, primary key). */
  addColumn(column: ColumnDef): void;
  /** Drops a column, with the indexes and constraints that use it. */
  dropColumn(column: string): void;
  /** Changes a column's type, nullability, default or name (see {@link AlterColumnChanges}). */
  alterColumn(column: string, changes: AlterColumnChanges): void;
  /** Declares the table's primary key over `columns`, optionally naming the constraint. */
  createPrimaryKey(columns: readonly string[], name?: string): void;
  /** Adds a UNIQUE constraint. */
  createUnique(constraint: UniqueConstraint): void;
  /** Adds a CHECK constraint. */
  createCheck(constraint: CheckConstraint): void;
  /** Adds a foreign key; on SQLite it is checked against the existing rows after the rebuild. */
  createForeignKey(constraint: ForeignKeyConstraint): void;
  /** Drops a named constraint (UNIQUE, CHECK, foreign key or primary key). */
  dropConstraint(name: string): void;
  /** Creates an index on the batch's table (options as for {@link Operations.createIndex}). */
  createIndex(name: string, columns: readonly IndexColumn[], options?: IndexOptions): void;
  /** Drops an index of the batch's table. */
  dropIndex(name: string): void;
}

/** The `op` object of a migration's context. Each call runs (or prints) its statements. */
export interface Operations {
  /**
   * `CREATE TABLE`. A column flagged `primaryKey` is the key; several flagged columns, or
   * `options.primaryKey`, make a composite key declared as a table constraint.
   */
  createTable(
    table: string,
    columns: readonly ColumnDef[],
    options?: CreateTableOptions,
  ): Promise<void>;
  /** `DROP TABLE`; `ifExists` makes a missing table no error. */
  dropTable(table: string, options?: { ifExists?: boolean }): Promise<void>;
  /** `ALTER TABLE ... RENAME TO`. */
  renameTable(from: string, to: string): Promise<void>;
  /**
   * `ALTER TABLE ... ADD COLUMN`. SQLite cannot add a PRIMARY KEY or UNIQUE column, a NOT NULL
   * column without a non-NULL default, or one with a non-constant default: use
   * {@link Operations.batchAlterTable} for those.
   */
  addColumn(table: string, column: ColumnDef): Promise<void>;
  /**
   * `ALTER TABLE ... DROP COLUMN`. SQLite refuses a column that an index, constraint, view or
   * trigger uses: use {@link Operations.batchAlterTable} for those.
   */
  dropColumn(table: string, column: string): Promise<void>;
  /**
   * Changes a column (PostgreSQL: one `ALTER TABLE`, then the rename). SQLite can only rename
   * outside a batch; other changes need {@link Operations.batchAlterTable}.
   */
  alterColumn(table: string, column: string, changes: AlterColumnChanges): Promise<void>;
  /** Adds a primary key constraint over `columns` (SQLite: only in a batch). */
  createPrimaryKey(table: string, columns: readonly string[], name?: string): Promise<void>;
  /** Adds a UNIQUE constraint (SQLite: only in a batch). */
  createUnique(table: string, constraint: UniqueConstraint): Promise<void>;
  /** Adds a CHECK constraint (SQLite: only in a batch). */
  createCheck(table: string, constraint: CheckConstraint): Promise<void>;
  /** Adds a foreign key (SQLite: only in a batch). */
  createForeignKey(table: string, constraint: ForeignKeyConstraint): Promise<void>;
  /** Drops a named constraint (SQLite: only in a batch). */
  dropConstraint(table: string, name: string): Promise<void>;
  /**
   * `CREATE INDEX`. With `concurrently` (PostgreSQL) the migration must be non-transactional,
   * and an INVALID index of the same name left by an interrupted build is dropped first.
   */
  createIndex(
    name: string,
    table: string,
    columns: readonly IndexColumn[],
    options?: IndexOptions,
  ): Promise<void>;
  /**
   * `DROP INDEX`. `table` is recorded in the operation only (index names are unique per
   * schema); `concurrently` (PostgreSQL) needs a non-transactional migration, and is skipped
   * on SQLite.
   */
  dropIndex(
    name: string,
    options?: { table?: string; concurrently?: boolean; ifExists?: boolean },
  ): Promise<void>;
  /**
   * PostgreSQL `CREATE TYPE ... AS ENUM`, before columns use it. Does nothing on SQLite, where
   * an enum is a CHECK on each column typed `t.enum(name, values)`.
   */
  createEnum(name: string, values: readonly string[]): Promise<void>;
  /** PostgreSQL `DROP TYPE`; does nothing on SQLite. */
  dropEnum(name: string, options?: { ifExists?: boolean }): Promise<void>;
  /**
   * PostgreSQL `ALTER TYPE ... ADD VALUE`, placed `before` or `after` an existing value (default
   * last). Before PostgreSQL 12 the migration must be non-transactional. Unsupported on SQLite:
   * change each column's `t.enum(...)` type in a batch instead.
   */
  addEnumValue(
    name: string,
    value: string,
    options?: { before?: string; after?: string; ifNotExists?: boolean },
  ): Promise<void>;
  /** Raw SQL with `$1`-style parameters (rewritten to `?` on SQLite). */
  execute(sql: string, params?: readonly unknown[]): Promise<void>;
  /**
   * Inserts rows as literal `INSERT` statements (500 rows each), so a dry run prints the data.
   * A key absent from a row takes the column's default. Values: string, number, bigint,
   * boolean, null, `Date` (ISO-8601 text), `Uint8Array` (bytes); anything else as JSON text.
   */
  bulkInsert(table: string, rows: readonly Row[]): Promise<void>;
  /** Collects changes to one table; SQLite rebuilds the table once, PostgreSQL ALTERs it. */
  batchAlterTable(table: string, build: (batch: BatchOperations) => void): Promise<void>;
}

/** The column type builder handed to migrations as `t`. */
export interface TypeBuilder {
  /** `INTEGER`: 32-bit on PostgreSQL, 64-bit on SQLite. */
  integer(): ColumnType;
  /** `BIGINT`: 64-bit. */
  bigint(): ColumnType;
  /** `SMALLINT`: 16-bit on PostgreSQL; SQLite stores any integer. */
  smallint(): ColumnType;
  /** Double-precision float (PostgreSQL `DOUBLE PRECISION`, SQLite `FLOAT`). */
  float(): ColumnType;
  /** Exact decimal, `NUMERIC(precision, scale)`; SQLite stores it with numeric affinity. */
  numeric(precision?: number, scale?: number): ColumnType;
  /** `BOOLEAN` (SQLite stores 1 and 0). */
  boolean(): ColumnType;
  /** Unbounded text (`TEXT`). */
  text(): ColumnType;
  /** `VARCHAR(length)`; SQLite does not enforce the length. */
  varchar(length?: number): ColumnType;
  /** PostgreSQL `UUID`; SQLite `CHAR(36)`, hyphenated text. */
  uuid(): ColumnType;
  /** PostgreSQL `JSON`; SQLite `JSON` (text). */
  json(): ColumnType;
  /** PostgreSQL `JSONB`; SQLite `JSON` (text), as for {@link TypeBuilder.json}. */
  jsonb(): ColumnType;
  /** `TIMESTAMP [WITH|WITHOUT] TIME ZONE` (default without); SQLite `DATETIME`, ISO-8601 text. */
  timestamp(options?: { withTimeZone?: boolean }): ColumnType;
  /** `DATE`. */
  date(): ColumnType;
  /** PostgreSQL `INTERVAL`; SQLite `DATETIME`. */
  interval(): ColumnType;
  /** Bytes: PostgreSQL `BYTEA`, SQLite `BLOB`. */
  blob(): ColumnType;
  /**
   * The enum type `name`: PostgreSQL uses the named type (create it with `op.createEnum`); SQLite
   * writes `VARCHAR` with a CHECK listing `values`, so it needs them.
   */
  enum(name: string, values: readonly string[]): ColumnType;
  /** A type written as the dialect spells it, e.g. `t.raw("CITEXT")`; used as is. */
  raw(sql: string): ColumnType;
}

/**
 * Runs queries inside the migration: `await sql\`SELECT id FROM flow WHERE name = ${n}\``
 * returns rows; `sql.unsafe(text, params)` takes text with `$1` parameters.
 */
export interface SqlHelper {
  /** Runs the query; each interpolated value becomes a parameter (`$1`, `$2`, ...), never text. */
  <T extends Row = Row>(strings: TemplateStringsArray, ...values: unknown[]): Promise<T[]>;
  /** Runs query text that already has `$1`-style parameters (rewritten to `?` on SQLite). */
  unsafe<T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

/** What a TypeScript migration's `upgrade`/`downgrade` receives. */
export interface MigrationContext {
  /** Schema and data operations, rendered for the chain's dialect. */
  readonly op: Operations;
  /** Builds portable column types: `t.varchar(255)`, `t.timestamp({ withTimeZone: true })`. */
  readonly t: TypeBuilder;
  /** Queries on the migration's connection, inside its transaction when it has one. */
  readonly sql: SqlHelper;
  /** The chain's dialect, for the rare migration that must write different SQL per dialect. */
  readonly dialect: DialectName;
  /** The revision being applied or unapplied. */
  readonly revision: string;
  /** True in a dry run: `sql` queries may return no rows. */
  readonly dryRun: boolean;
}
