/**
 * Compare two schema models of one dialect and list the operations that turn the first into
 * the second, in an order that runs: enums before the tables that use them, tables in foreign
 * key order, foreign keys dropped before what they point at and created after it, enums
 * dropped last. The downgrade is the same comparison the other way round, so both directions
 * come from one algorithm and are each other's inverse by construction.
 *
 * What is compared, and how it is matched:
 * - tables, columns, indexes and enums by name (case-insensitively);
 * - unique constraints and foreign keys by their columns (names differ between a definition
 *   and a database: PostgreSQL names what the definition leaves unnamed);
 * - CHECK constraints by name when both sides name them, else by normalised expression;
 *   a changed expression under the same name is not detected (databases rewrite them);
 * - column types through the dialect's spelling, so `t.interval()` and `t.timestamp()` are
 *   the same `DATETIME` on SQLite, and an enum is compared by values on SQLite (its VARCHAR and
 *   CHECK are the type) and by name on PostgreSQL;
 * - defaults and index predicates through {@link normaliseSql}; index expressions are matched
 *   by the index's name (a dialect reports them in its own words) unless asked otherwise.
 *
 * On SQLite, every change to an existing table that its `ALTER TABLE` cannot make is grouped
 * with the table's other changes into one `batch` operation (one rebuild).
 *
 * @module
 */

import type { Operation } from "../ops/operations.ts";
import type { ColumnDef, ColumnType, DefaultValue } from "../ops/types.ts";
import { operation } from "../ops/build.ts";
import type { DialectName } from "../revision/revision.ts";
import { getDialect } from "../dialect/dialect.ts";
import { renderDefault } from "../dialect/ddl.ts";
import { quoteIdent } from "../dialect/quote.ts";
import { SQLITE_LITERALS, sqliteNativeAddColumnProblem } from "../dialect/sqlite.ts";
import { POSTGRES_LITERALS } from "../dialect/postgres.ts";
import { mentionsIdentifier } from "../sql/lexer.ts";
import type {
  CheckModel,
  ColumnModel,
  EnumModel,
  ForeignKeyModel,
  IncludeObject,
  IndexModel,
  SchemaModel,
  SchemaObject,
  SchemaObjectKind,
  TableModel,
  UniqueModel,
} from "./model.ts";
import { byName, constraintName, nameKey } from "./model.ts";
import { parseSqliteType } from "./introspect_sqlite.ts";
import { parsePostgresType } from "./introspect_postgres.ts";
import { normaliseSql } from "./sql_text.ts";

/** Options of {@link diffModels}. */
export interface DiffOptions {
  /** Leave objects out of the comparison (Alembic's `include_object`). */
  readonly includeObject?: IncludeObject;
  /** Compare column types (default true). */
  readonly compareTypes?: boolean;
  /** Compare server defaults (default true). */
  readonly compareDefaults?: boolean;
  /** Compare index expressions and predicates as text too (default false: by name). */
  readonly compareIndexExpressions?: boolean;
}

/** The operations from one model to another, and what could not be expressed as one. */
export interface DiffResult {
  readonly operations: Operation[];
  /** Differences no operation can make (e.g. removing a PostgreSQL enum value). */
  readonly warnings: string[];
}

/** Thrown when two models of different dialects are compared. */
export class ModelMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelMismatchError";
  }
}

/**
 * The operations that turn `current` into `target` (both of one dialect).
 *
 * @example
 * ```ts
 * import { diffModels } from "./diff.ts";
 * import { definitionToModel } from "./schema.ts";
 * const empty = { dialect: "sqlite" as const, tables: [], enums: [] };
 * const target = definitionToModel(({ t, table }) => ({
 *   tables: [table("flow", { columns: [{ name: "id", type: t.integer(), primaryKey: true }] })],
 * }), "sqlite");
 * diffModels(empty, target).operations[0].kind; // "createTable"
 * ```
 */
export function diffModels(
  currentModel: SchemaModel,
  targetModel: SchemaModel,
  options: DiffOptions = {},
): DiffResult {
  if (currentModel.dialect !== targetModel.dialect) {
    throw new ModelMismatchError(
      `Cannot compare schemas: one is ${currentModel.dialect}, the other ${targetModel.dialect}`,
    );
  }
  const dialect = targetModel.dialect;
  const current = filterModel(currentModel, targetModel, true, options.includeObject);
  const target = filterModel(targetModel, currentModel, false, options.includeObject);
  const warnings: string[] = [];
  const sqlite = dialect === "sqlite";

  // Phases, concatenated at the end in this order.
  const enumsCreated: Operation[] = [];
  const tablesCreated: Operation[] = [];
  const foreignKeysDropped: Operation[] = [];
  const tableChanges: Operation[] = [];
  const foreignKeysCreated: Operation[] = [];
  const tablesDropped: Operation[] = [];
  const enumsDropped: Operation[] = [];

  // Enums (PostgreSQL; SQLite models have none).
  for (const wanted of target.enums) {
    const existing = byName(current.enums, wanted.name);
    if (!existing) enumsCreated.push(operation.createEnum(wanted.name, wanted.values));
    else enumsCreated.push(...enumValueChanges(existing, wanted, warnings));
  }
  for (const existing of current.enums) {
    if (!byName(target.enums, existing.name)) enumsDropped.push(operation.dropEnum(existing.name));
  }

  // New tables, parents first; on PostgreSQL a foreign key into a cycle waits for the tables.
  const added = target.tables.filter((table) => !byName(current.tables, table.name));
  const existingNames = new Set(current.tables.map((table) => nameKey(table.name)));
  const { order: createOrder, deferred } = dependencyOrder(added, existingNames);
  for (const table of createOrder) {
    const inline = sqlite ? table.foreignKeys : table.foreignKeys.filter((fk) => !deferred.has(fk));
    tablesCreated.push(createTableOperation(table, inline));
    for (const index of table.indexes) tablesCreated.push(createIndexOperation(table.name, index));
    for (const fk of table.foreignKeys) {
      if (!inline.includes(fk)) {
        foreignKeysCreated.push(operation.createForeignKey(table.name, fkConstraint(fk)));
      }
    }
  }

  // Dropped tables, children first; on PostgreSQL, a cycle's foreign keys go first.
  const removed = current.tables.filter((table) => !byName(target.tables, table.name));
  const dropOrder = dependencyOrder(removed, new Set());
  for (const table of [...dropOrder.order].reverse()) {
    tablesDropped.push(operation.dropTable(table.name));
    if (sqlite) continue;
    for (const fk of table.foreignKeys) {
      if (dropOrder.deferred.has(fk)) {
        foreignKeysDropped.push(
          operation.dropConstraint(table.name, constraintName("foreignKey", table, fk, dialect)),
        );
      }
    }
  }

  // Tables on both sides.
  for (const wanted of target.tables) {
    const existing = byName(current.tables, wanted.name);
    if (!existing) continue;
    const changes = compareTable(existing, wanted, dialect, options, warnings);
    if (sqlite) {
      const all = [
        ...changes.dropForeignKeys,
        ...changes.alter,
        ...changes.createForeignKeys,
      ];
      if (all.length === 0) continue;
      if (changes.needsRebuild) tableChanges.push(operation.batch(wanted.name, all));
      else tableChanges.push(...all);
    } else {
      foreignKeysDropped.push(...changes.dropForeignKeys);
      tableChanges.push(...changes.alter);
      foreignKeysCreated.push(...changes.createForeignKeys);
    }
  }

  return {
    operations: [
      ...enumsCreated,
      ...tablesCreated,
      ...foreignKeysDropped,
      ...tableChanges,
      ...foreignKeysCreated,
      ...tablesDropped,
      ...enumsDropped,
    ],
    warnings,
  };
}

// ---------------------------------------------------------------------------------------------
// Filtering

function filterModel(
  model: SchemaModel,
  other: SchemaModel,
  reflected: boolean,
  include: IncludeObject | undefined,
): SchemaModel {
  if (!include) return model;
  const keep = <T extends SchemaObject>(
    items: readonly T[],
    kind: SchemaObjectKind,
    counterpart: (item: T) => SchemaObject | undefined,
  ): T[] =>
    items.filter((item) =>
      include(item, (item as { name?: string }).name, kind, reflected, counterpart(item))
    );
  const tables = keep(model.tables, "table", (t) => byName(other.tables, t.name)).map((table) => {
    const twin = byName(other.tables, table.name);
    return {
      ...table,
      columns: keep(table.columns, "column", (c) => twin && byName(twin.columns, c.name)),
      uniques: keep(table.uniques, "unique", (u) => twin?.uniques.find((x) => sameUnique(u, x))),
      checks: keep(table.checks, "check", () => undefined),
      foreignKeys: keep(
        table.foreignKeys,
        "foreignKey",
        (fk) => twin?.foreignKeys.find((x) => sameForeignKeyTarget(fk, x)),
      ),
      indexes: keep(table.indexes, "index", (i) => twin && byName(twin.indexes, i.name)),
    };
  });
  const enums = keep(model.enums, "enum", (e) => byName(other.enums, e.name));
  return { ...model, tables, enums };
}

// ---------------------------------------------------------------------------------------------
// Enums

function enumValueChanges(existing: EnumModel, wanted: EnumModel, warnings: string[]): Operation[] {
  const have = existing.values;
  const want = wanted.values;
  // PostgreSQL can add values anywhere but never remove or reorder them.
  const kept = want.filter((value) => have.includes(value));
  if (kept.length !== have.length || kept.some((value, i) => value !== have[i])) {
    if (have.join("\u0000") !== want.join("\u0000")) {
      warnings.push(
        `Cannot change enum ${wanted.name} from (${have.join(", ")}) to (${want.join(", ")}): ` +
          `PostgreSQL cannot remove or reorder enum values; write this change by hand`,
      );
    }
    return [];
  }
  const ops: Operation[] = [];
  // New values ahead of every existing one go, in order, before the first existing one; the
  // others after their predecessor, which exists by then (added before them if new).
  const firstKept = want.findIndex((value) => have.includes(value));
  for (let i = 0; i < want.length; i++) {
    if (have.includes(want[i])) continue;
    ops.push(
      i > firstKept
        // IF NOT EXISTS: PostgreSQL cannot remove an enum value, so the downgrade leaves it,
        // and upgrading again after a downgrade must not fail on it.
        ? operation.addEnumValue(wanted.name, want[i], { after: want[i - 1], ifNotExists: true })
        : operation.addEnumValue(wanted.name, want[i], {
          before: want[firstKept],
          ifNotExists: true,
        }),
    );
  }
  return ops;
}

// ---------------------------------------------------------------------------------------------
// Table order

/**
 * Tables ordered so each comes after the tables its foreign keys point at; foreign keys that
 * close a cycle are returned as `deferred` (created after, or dropped before, the tables).
 */
function dependencyOrder(
  tables: readonly TableModel[],
  elsewhere: ReadonlySet<string>,
): { order: TableModel[]; deferred: Set<ForeignKeyModel> } {
  const order: TableModel[] = [];
  const deferred = new Set<ForeignKeyModel>();
  const state = new Map<string, "visiting" | "done">();
  const visit = (table: TableModel) => {
    state.set(nameKey(table.name), "visiting");
    for (const fk of table.foreignKeys) {
      const ref = nameKey(fk.refTable);
      if (ref === nameKey(table.name) || elsewhere.has(ref)) continue;
      const parent = tables.find((t) => nameKey(t.name) === ref);
      if (!parent) continue;
      const seen = state.get(ref);
      if (seen === "visiting") deferred.add(fk);
      else if (seen === undefined) visit(parent);
    }
    state.set(nameKey(table.name), "done");
    order.push(table);
  };
  for (const table of tables) if (!state.has(nameKey(table.name))) visit(table);
  return { order, deferred };
}

// ---------------------------------------------------------------------------------------------
// Building operations from the model

function columnDef(column: ColumnModel, extra: Partial<ColumnDef> = {}): ColumnDef {
  return {
    name: column.name,
    type: column.type,
    ...(column.nullable ? {} : { nullable: false }),
    ...extra,
    ...(column.autoincrement ? { autoincrement: true } : {}),
    ...(column.default === undefined ? {} : { default: column.default }),
    ...(column.collation === undefined ? {} : { collate: column.collation }),
  };
}

function fkConstraint(fk: ForeignKeyModel, name?: string) {
  const given = name ?? fk.name;
  return {
    ...(given === undefined ? {} : { name: given }),
    columns: fk.columns,
    refTable: fk.refTable,
    refColumns: fk.refColumns,
    ...(fk.onDelete === "NO ACTION" ? {} : { onDelete: fk.onDelete }),
    ...(fk.onUpdate === "NO ACTION" ? {} : { onUpdate: fk.onUpdate }),
  };
}

function named<T extends { name?: string }>(item: T): { name?: string } {
  return item.name === undefined ? {} : { name: item.name };
}

function createTableOperation(
  table: TableModel,
  foreignKeys: readonly ForeignKeyModel[],
): Operation {
  const pk = table.primaryKey;
  const single = pk && pk.columns.length === 1 ? nameKey(pk.columns[0]) : undefined;
  const pkColumn = single ? table.columns.find((c) => nameKey(c.name) === single) : undefined;
  // A one-column key is written on its column (SQLite's AUTOINCREMENT needs that) unless it
  // carries a name worth keeping (PostgreSQL's own `<table>_pkey` is not).
  const inline = pkColumn !== undefined &&
    (pkColumn.autoincrement || pk?.name === undefined || pk.name === `${table.name}_pkey`);
  const columns = table.columns.map((column) =>
    columnDef(column, inline && column === pkColumn ? { primaryKey: true } : {})
  );
  return operation.createTable(table.name, columns, {
    ...(pk && !inline ? { primaryKey: { columns: pk.columns, ...named(pk) } } : {}),
    ...(table.uniques.length
      ? { uniques: table.uniques.map((u) => ({ ...named(u), columns: u.columns })) }
      : {}),
    ...(table.checks.length
      ? { checks: table.checks.map((c) => ({ ...named(c), expression: c.expression })) }
      : {}),
    ...(foreignKeys.length ? { foreignKeys: foreignKeys.map((fk) => fkConstraint(fk)) } : {}),
  });
}

function createIndexOperation(table: string, index: IndexModel): Operation {
  return operation.createIndex(index.name, table, index.columns, {
    ...(index.unique ? { unique: true } : {}),
    ...(index.where === undefined ? {} : { where: index.where }),
    ...(index.include.length ? { include: index.include } : {}),
    ...(index.using === undefined ? {} : { using: index.using }),
    ...(Object.keys(index.opclass).length ? { opclass: index.opclass } : {}),
  });
}

// ---------------------------------------------------------------------------------------------
// Names of constraints

// ---------------------------------------------------------------------------------------------
// Comparing one table

interface TableChanges {
  readonly dropForeignKeys: Operation[];
  /** Drops, then adds and alters, then creates, in the order they must run. */
  readonly alter: Operation[];
  readonly createForeignKeys: Operation[];
  /** SQLite: true when something here needs the table rebuilt. */
  readonly needsRebuild: boolean;
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => nameKey(name) === nameKey(b[i]));
}

function sameUnique(a: UniqueModel, b: UniqueModel): boolean {
  return sameColumns(a.columns, b.columns);
}

function sameForeignKeyTarget(a: ForeignKeyModel, b: ForeignKeyModel): boolean {
  return sameColumns(a.columns, b.columns) && nameKey(a.refTable) === nameKey(b.refTable) &&
    sameColumns(a.refColumns, b.refColumns);
}

/** Pair items of two lists: first by a strong test, then by a weaker one, each at most once. */
function pair<T>(
  have: readonly T[],
  want: readonly T[],
  ...tests: ((a: T, b: T) => boolean)[]
): { matched: [T, T][]; onlyHave: T[]; onlyWant: T[] } {
  const matched: [T, T][] = [];
  const freeHave = [...have];
  const freeWant = [...want];
  for (const test of tests) {
    for (const w of [...freeWant]) {
      const found = freeHave.find((h) => test(h, w));
      if (found === undefined) continue;
      matched.push([found, w]);
      freeHave.splice(freeHave.indexOf(found), 1);
      freeWant.splice(freeWant.indexOf(w), 1);
    }
  }
  return { matched, onlyHave: freeHave, onlyWant: freeWant };
}

function compareTable(
  have: TableModel,
  want: TableModel,
  dialect: DialectName,
  options: DiffOptions,
  warnings: string[],
): TableChanges {
  const sqlite = dialect === "sqlite";
  const table = want.name;
  let needsRebuild = false;
  const dropForeignKeys: Operation[] = [];
  const drops: Operation[] = [];
  const adds: Operation[] = [];
  const creates: Operation[] = [];
  const createForeignKeys: Operation[] = [];

  const droppedColumns = have.columns.filter((c) => !byName(want.columns, c.name));
  const involvesDropped = (columns: readonly string[]) =>
    columns.some((name) => droppedColumns.some((c) => nameKey(c.name) === nameKey(name)));
  const expressionInvolvesDropped = (expression: string) =>
    droppedColumns.some((c) => mentionsIdentifier(expression, c.name));

  /** Drop a constraint of the existing table; SQLite cannot drop one it knows no name of. */
  const dropConstraint = (
    kind: "unique" | "check" | "foreignKey" | "primaryKey",
    item: UniqueModel | CheckModel | ForeignKeyModel | { name?: string; columns: string[] },
    goesWithColumn: boolean,
    into: Operation[],
  ) => {
    if (sqlite) needsRebuild = true;
    if (sqlite && item.name === undefined) {
      // Dropping the column (in the same rebuild) takes the constraint with it.
      if (goesWithColumn) return;
      warnings.push(
        `Cannot drop the unnamed ${describeConstraint(kind, item)} of table ${table} on ` +
          `SQLite: it has no name to drop it by; drop it by hand in the batch, or name it`,
      );
      return;
    }
    into.push(operation.dropConstraint(table, constraintName(kind, have, item, dialect)));
  };

  // Indexes: by name.
  for (const index of have.indexes) {
    const twin = byName(want.indexes, index.name);
    if (!twin || !sameIndex(index, twin, options)) {
      drops.push(operation.dropIndex(index.name, { table: have.name }));
    }
  }

  // Foreign keys: by columns and target; a change of actions is a drop and a create.
  const fks = pair(have.foreignKeys, want.foreignKeys, sameForeignKeyTarget);
  for (const [h, w] of fks.matched) {
    if (h.onDelete !== w.onDelete || h.onUpdate !== w.onUpdate) {
      dropConstraint("foreignKey", h, false, dropForeignKeys);
      createForeignKeys.push(
        operation.createForeignKey(
          table,
          fkConstraint(w, constraintName("foreignKey", want, w, dialect)),
        ),
      );
      if (sqlite) needsRebuild = true;
    }
  }
  for (const h of fks.onlyHave) {
    dropConstraint("foreignKey", h, involvesDropped(h.columns), dropForeignKeys);
  }
  for (const w of fks.onlyWant) {
    createForeignKeys.push(
      operation.createForeignKey(
        table,
        fkConstraint(w, constraintName("foreignKey", want, w, dialect)),
      ),
    );
    if (sqlite) needsRebuild = true;
  }

  // Unique constraints: by name when both are named, else by columns.
  const uniques = pair(
    have.uniques,
    want.uniques,
    (h, w) => h.name !== undefined && w.name !== undefined && nameKey(h.name) === nameKey(w.name),
    sameUnique,
  );
  for (const [h, w] of uniques.matched) {
    if (!sameUnique(h, w)) {
      dropConstraint("unique", h, false, drops);
      creates.push(
        operation.createUnique(table, {
          name: constraintName("unique", want, w, dialect),
          columns: w.columns,
        }),
      );
    }
  }
  for (const h of uniques.onlyHave) dropConstraint("unique", h, involvesDropped(h.columns), drops);
  for (const w of uniques.onlyWant) {
    creates.push(
      operation.createUnique(table, {
        name: constraintName("unique", want, w, dialect),
        columns: w.columns,
      }),
    );
    if (sqlite) needsRebuild = true;
  }

  // Checks: by name when both are named, else by expression, else by PostgreSQL's own name.
  const checks = pair(
    have.checks,
    want.checks,
    (h, w) => h.name !== undefined && w.name !== undefined && nameKey(h.name) === nameKey(w.name),
    (h, w) => normaliseSql(h.expression) === normaliseSql(w.expression),
    (h, w) =>
      dialect === "postgresql" && h.name !== undefined && w.name === undefined &&
      nameKey(h.name) === nameKey(constraintName("check", want, w, dialect)),
  );
  for (const h of checks.onlyHave) {
    dropConstraint("check", h, expressionInvolvesDropped(h.expression), drops);
  }
  for (const w of checks.onlyWant) {
    creates.push(
      operation.createCheck(table, {
        name: constraintName("check", want, w, dialect),
        expression: w.expression,
      }),
    );
    if (sqlite) needsRebuild = true;
  }

  // Primary key: by columns.
  const havePk = have.primaryKey?.columns ?? [];
  const wantPk = want.primaryKey?.columns ?? [];
  if (!sameColumns(havePk, wantPk)) {
    if (have.primaryKey && (!sqlite || wantPk.length === 0)) {
      // On SQLite a new primary key replaces the old one in the rebuild.
      dropConstraint(
        "primaryKey",
        have.primaryKey,
        involvesDropped(have.primaryKey.columns),
        drops,
      );
    }
    if (want.primaryKey) {
      creates.push(
        operation.createPrimaryKey(
          table,
          want.primaryKey.columns,
          sqlite
            ? want.primaryKey.name
            : constraintName("primaryKey", want, want.primaryKey, dialect),
        ),
      );
      if (sqlite) needsRebuild = true;
    }
  }

  // Columns: dropped, added, altered.
  for (const column of droppedColumns) {
    drops.push(operation.dropColumn(table, column.name));
    if (sqlite && sqliteDropColumnNeedsRebuild(have, column)) needsRebuild = true;
  }
  for (const column of want.columns) {
    const existing = byName(have.columns, column.name);
    if (!existing) {
      const def = columnDef(column);
      if (!column.nullable && column.default === undefined && !column.autoincrement) {
        warnings.push(
          `Column ${table}.${column.name} is added NOT NULL without a default: the migration ` +
            `fails if the table has rows; add a default or fill the column in the migration`,
        );
      }
      adds.push(operation.addColumn(table, def));
      if (sqlite && sqliteNativeAddColumnProblem(def) !== undefined) needsRebuild = true;
      continue;
    }
    const changes = compareColumn(existing, column, dialect, options);
    if (changes) {
      adds.push(operation.alterColumn(table, existing.name, changes));
      if (sqlite) needsRebuild = true;
    }
    if (
      (existing.collation ?? "").toLowerCase().replaceAll('"', "") !==
        (column.collation ?? "").toLowerCase().replaceAll('"', "")
    ) {
      warnings.push(
        `Cannot change the collation of ${table}.${column.name} from ` +
          `${existing.collation ?? "the default"} to ${column.collation ?? "the default"}: ` +
          `alterColumn has no collation; write this change by hand`,
      );
    }
  }

  // New indexes, and indexes changed (dropped above).
  for (const index of want.indexes) {
    const twin = byName(have.indexes, index.name);
    if (!twin || !sameIndex(twin, index, options)) creates.push(createIndexOperation(table, index));
  }

  return {
    dropForeignKeys,
    alter: [...drops, ...adds, ...creates],
    createForeignKeys,
    needsRebuild,
  };
}

function describeConstraint(
  kind: "unique" | "check" | "foreignKey" | "primaryKey",
  item: UniqueModel | CheckModel | ForeignKeyModel | { name?: string; columns: string[] },
): string {
  switch (kind) {
    case "check":
      return `CHECK (${(item as CheckModel).expression})`;
    case "foreignKey":
      return `foreign key (${(item as ForeignKeyModel).columns.join(", ")}) -> ${
        (item as ForeignKeyModel).refTable
      }`;
    case "unique":
      return `UNIQUE (${(item as UniqueModel).columns.join(", ")})`;
    case "primaryKey":
      return `PRIMARY KEY (${(item as UniqueModel).columns.join(", ")})`;
  }
}

/** SQLite's DROP COLUMN refuses a column in a key, a unique or foreign key, or another CHECK. */
function sqliteDropColumnNeedsRebuild(table: TableModel, column: ColumnModel): boolean {
  const key = nameKey(column.name);
  const inColumns = (columns: readonly string[]) => columns.some((c) => nameKey(c) === key);
  return inColumns(table.primaryKey?.columns ?? []) ||
    table.uniques.some((u) => inColumns(u.columns)) ||
    table.foreignKeys.some((fk) => inColumns(fk.columns)) ||
    table.checks.some((check) => mentionsIdentifier(check.expression, column.name));
}

// ---------------------------------------------------------------------------------------------
// Columns and indexes

function canonicalType(type: ColumnType, dialect: DialectName): ColumnType {
  if (type.type !== "raw") return type;
  return dialect === "sqlite" ? parseSqliteType(type.sql) : parsePostgresType(type.sql);
}

/** The key two types are compared by (see the module note). */
export function typeKey(type: ColumnType, dialect: DialectName): string {
  let canonical = canonicalType(type, dialect);
  // PostgreSQL stores numeric(p) as numeric(p,0): one type, two spellings.
  if (
    dialect === "postgresql" && canonical.type === "numeric" && canonical.scale === 0 &&
    canonical.precision !== undefined
  ) {
    canonical = { type: "numeric", precision: canonical.precision };
  }
  if (canonical.type === "enum") {
    return dialect === "sqlite"
      ? `enum(${canonical.values.join("\u0000")})`
      : `enum:${nameKey(canonical.name)}`;
  }
  if (canonical.type === "raw") return canonical.sql.toUpperCase().replace(/\s+/g, " ");
  return getDialect(dialect).renderType(canonical).toUpperCase();
}

/** The key two defaults are compared by. */
export function defaultKey(value: DefaultValue | undefined, dialect: DialectName): string {
  if (value === undefined || value === null) return "";
  return normaliseSql(
    renderDefault(value, dialect === "sqlite" ? SQLITE_LITERALS : POSTGRES_LITERALS),
  );
}

function compareColumn(
  have: ColumnModel,
  want: ColumnModel,
  dialect: DialectName,
  options: DiffOptions,
): Parameters<typeof operation.alterColumn>[2] | undefined {
  const changes: {
    type?: ColumnType;
    nullable?: boolean;
    default?: DefaultValue;
    using?: string;
  } = {};
  if (
    (options.compareTypes ?? true) && typeKey(have.type, dialect) !== typeKey(want.type, dialect)
  ) {
    changes.type = want.type;
    if (dialect === "postgresql" && want.type.type === "enum") {
      // PostgreSQL casts nothing to an enum implicitly, not even text.
      changes.using = `${quoteIdent(have.name)}::text::${quoteIdent(want.type.name)}`;
    }
  }
  if (have.nullable !== want.nullable) changes.nullable = want.nullable;
  if (
    (options.compareDefaults ?? true) && !have.autoincrement && !want.autoincrement &&
    defaultKey(have.default, dialect) !== defaultKey(want.default, dialect)
  ) {
    changes.default = want.default === undefined ? null : want.default;
  }
  return Object.keys(changes).length ? changes : undefined;
}

function sameIndex(have: IndexModel, want: IndexModel, options: DiffOptions): boolean {
  const textual = options.compareIndexExpressions ?? false;
  const sameColumn = (a: IndexModel["columns"][number], b: IndexModel["columns"][number]) => {
    if (typeof a === "string" || typeof b === "string") {
      return typeof a === "string" && typeof b === "string" && nameKey(a) === nameKey(b);
    }
    return !textual || normaliseSql(a.expression) === normaliseSql(b.expression);
  };
  const opclasses = (index: IndexModel) =>
    index.columns.map((c) => {
      const key = typeof c === "string" ? c : c.expression;
      const found = Object.entries(index.opclass).find(([k]) =>
        typeof c === "string" ? nameKey(k) === nameKey(key) : normaliseSql(k) === normaliseSql(key)
      );
      return found ? found[1].toLowerCase() : "";
    }).join(",");
  return have.unique === want.unique &&
    have.columns.length === want.columns.length &&
    have.columns.every((c, i) => sameColumn(c, want.columns[i])) &&
    (have.where === undefined) === (want.where === undefined) &&
    (!textual || have.where === undefined ||
      normaliseSql(have.where) === normaliseSql(want.where ?? "")) &&
    sameColumns(have.include, want.include) &&
    (have.using ?? "btree") === (want.using ?? "btree") &&
    opclasses(have) === opclasses(want);
}

// ---------------------------------------------------------------------------------------------
// Describing

/**
 * One line per operation, for `strata check` and the `--autogenerate` summary.
 *
 * @example
 * ```ts
 * import { describeOperation } from "./diff.ts";
 * describeOperation({ kind: "dropColumn", table: "flow", column: "labels" });
 * // "drop column flow.labels"
 * ```
 */
export function describeOperation(op: Operation): string {
  switch (op.kind) {
    case "createTable":
      return `add table ${op.table}`;
    case "dropTable":
      return `drop table ${op.table}`;
    case "renameTable":
      return `rename table ${op.from} to ${op.to}`;
    case "addColumn":
      return `add column ${op.table}.${op.column.name}`;
    case "dropColumn":
      return `drop column ${op.table}.${op.column}`;
    case "alterColumn": {
      const what = Object.keys(op.changes).filter((k) => k !== "using").join(", ");
      return `alter column ${op.table}.${op.column} (${what})`;
    }
    case "createPrimaryKey":
      return `add primary key on ${op.table} (${op.columns.join(", ")})`;
    case "createUnique":
      return `add unique constraint on ${op.table} (${op.constraint.columns.join(", ")})`;
    case "createCheck":
      return `add check constraint on ${op.table} (${op.constraint.expression})`;
    case "createForeignKey":
      return `add foreign key on ${op.table} (${
        op.constraint.columns.join(", ")
      }) -> ${op.constraint.refTable}`;
    case "dropConstraint":
      return `drop constraint ${op.name} on ${op.table}`;
    case "createIndex":
      return `add index ${op.name} on ${op.table}`;
    case "dropIndex":
      return `drop index ${op.name}${op.table ? ` on ${op.table}` : ""}`;
    case "createEnum":
      return `add enum ${op.name}`;
    case "dropEnum":
      return `drop enum ${op.name}`;
    case "addEnumValue":
      return `add value '${op.value}' to enum ${op.name}`;
    case "execute":
      return `execute ${op.sql}`;
    case "bulkInsert":
      return `insert ${op.rows.length} row(s) into ${op.table}`;
    case "batch":
      return op.operations.map(describeOperation).join("\n");
  }
}

/** The table-level lines of {@link describeOperation} for a list (batches flattened). */
export function describeOperations(ops: readonly Operation[]): string[] {
  return ops.flatMap((op) => describeOperation(op).split("\n"));
}
