/**
 * The SQLite batch planner: one table rebuild for everything a `batchAlterTable` collected.
 *
 * SQLite's `ALTER TABLE` cannot change a column's type, nullability or default, nor add or drop
 * constraints, so such changes follow the procedure SQLite documents under "making other kinds
 * of table schema changes": create the new table under a temporary name, copy the rows, drop
 * the old table, rename the new one, then put back what the drop took with it (indexes,
 * triggers) and what the rename would trip over (views that name the table, triggers elsewhere
 * that name it). The caller runs this with foreign keys off, inside a savepoint (so a batch
 * applies completely or not at all, in a transaction or not), and afterwards checks the views
 * and triggers it created again and the foreign keys.
 *
 * The planner is pure: it reads the table's `CREATE TABLE` text as SQLite stored it and edits
 * it, so whatever strata does not model (collations, generated columns, `WITHOUT ROWID`,
 * `STRICT`, conflict clauses) survives a rebuild untouched. Column renames are not planned
 * here: SQLite's own `ALTER TABLE ... RENAME COLUMN` rewrites every index, trigger and view
 * correctly, so the caller runs them first ({@link splitBatchRenames}) and plans the rest.
 *
 * @module
 */

import type { AlterColumnChanges, Operation } from "../ops/operations.ts";
import type { ColumnType } from "../ops/types.ts";
import { UnsupportedOperationError } from "../ops/errors.ts";
import { operation } from "../ops/build.ts";
import { quoteIdent, quoteLiteral } from "./quote.ts";
import {
  foldIdentifier,
  identifierOf,
  isSignificant,
  joinTokens,
  mentionsIdentifier,
  sameIdentifier,
  splitTopLevel,
  type SqlToken,
  tokenize,
} from "../sql/lexer.ts";
import { renderDefault, renderForeignKey, renderPrimaryKey, renderUnique } from "./ddl.ts";
import { renderCheck } from "./ddl.ts";
import {
  renderSqliteColumn,
  renderSqliteOperation,
  renderSqliteType,
  SQLITE_LITERALS,
  sqliteEnumCheck,
  sqliteNativeAddColumnProblem,
} from "./sqlite.ts";

/** One entry of `sqlite_master` (an index, trigger or view), as the planner needs it. */
export interface SqliteSchemaObject {
  readonly name: string;
  /** `tbl_name`: the table (or view) the object belongs to. */
  readonly table: string;
  readonly sql: string;
}

/** What the planner knows of a table before the rebuild, read from `sqlite_master`. */
export interface SqliteTableInfo {
  readonly name: string;
  /** The `CREATE TABLE` statement exactly as `sqlite_master` holds it. */
  readonly sql: string;
  /** The table's explicit indexes (those with SQL; constraint autoindexes come back by themselves). */
  readonly indexes: readonly SqliteSchemaObject[];
  /** Triggers of the schema in `sqlite_master` order (the planner picks those involved). */
  readonly triggers: readonly SqliteSchemaObject[];
  /** Views of the schema in `sqlite_master` order (the planner picks those involved). */
  readonly views: readonly SqliteSchemaObject[];
  /**
   * The table's `sqlite_sequence` value, when it has AUTOINCREMENT and one, as SQLite's text of
   * it: a counter can be past what a JavaScript number holds exactly.
   */
  readonly autoincrementSeq?: string;
}

/** The name the new table is built under before it takes the old one's place. */
export function rebuildTempName(table: string): string {
  return `_strata_tmp_${table}`;
}

/** Operations SQLite's `ALTER TABLE` can do without a rebuild, inside a batch. */
function isNativeInBatch(op: Operation): boolean {
  switch (op.kind) {
    case "addColumn":
      return sqliteNativeAddColumnProblem(op.column) === undefined;
    case "alterColumn":
      return isRenameOnly(op.changes);
    case "createIndex":
    case "dropIndex":
      return true;
    default:
      return false;
  }
}

function isRenameOnly(changes: AlterColumnChanges): boolean {
  return changes.newName !== undefined &&
    Object.entries(changes).every(([key, value]) => key === "newName" || value === undefined);
}

/** True when a batch holds an operation that needs the table rebuilt (like Alembic's `auto`). */
export function batchNeedsRebuild(operations: readonly Operation[]): boolean {
  return !operations.every(isNativeInBatch);
}

/**
 * Split a batch into the column renames (run first, natively) and the rest, with the rest's
 * column names moved to the names the columns have once every rename ran. An `alterColumn`
 * that renames and changes something else becomes a rename plus an `alterColumn` of the new
 * name.
 *
 * Each operation names columns as they stand at its point in the batch: after `b` -> `c` and
 * `a` -> `b`, a later `b` is the column that was `a`. A name that no longer exists at that
 * point because an earlier rename took it away (and none gave it back) still finds its
 * column, as in Alembic, which knows batch columns by their original names.
 *
 * @example
 * ```ts
 * import { splitBatchRenames } from "./sqlite_rebuild.ts";
 * const { renames, rest } = splitBatchRenames([
 *   { kind: "alterColumn", table: "flow", column: "nm", changes: { newName: "name", nullable: false } },
 * ]);
 * // renames: alterColumn nm -> name; rest: alterColumn name { nullable: false }
 * ```
 */
export function splitBatchRenames(
  operations: readonly Operation[],
): { renames: Operation[]; rest: Operation[] } {
  const columns = new BatchColumns();
  const renames: Operation[] = [];
  // The rest are built once all renames are known, since a later rename moves a name again.
  const pending: (() => Operation)[] = [];
  const later = (build: () => Operation) => pending.push(build);
  for (const op of operations) {
    switch (op.kind) {
      case "alterColumn": {
        const column = columns.at(op.column);
        const { newName, ...others } = op.changes;
        if (newName !== undefined) {
          renames.push(operation.alterColumn(op.table, column.name, { newName }));
          columns.rename(column, newName);
        }
        if (newName === undefined) {
          later(() => operation.alterColumn(op.table, column.name, op.changes));
        } else if (Object.values(others).some((value) => value !== undefined)) {
          later(() => operation.alterColumn(op.table, column.name, others));
        }
        break;
      }
      case "dropColumn": {
        const column = columns.at(op.column);
        later(() => operation.dropColumn(op.table, column.name));
        break;
      }
      case "createIndex": {
        const named = op.columns.map((c) => typeof c === "string" ? columns.at(c) : c);
        later(() =>
          operation.createIndex(
            op.name,
            op.table,
            named.map((c) => "expression" in c ? c : c.name),
            op.options,
          )
        );
        break;
      }
      case "createPrimaryKey": {
        const named = columns.all(op.columns);
        later(() => operation.createPrimaryKey(op.table, named.map((c) => c.name), op.name));
        break;
      }
      case "createUnique": {
        const named = columns.all(op.constraint.columns);
        later(() =>
          operation.createUnique(op.table, {
            ...op.constraint,
            columns: named.map((c) => c.name),
          })
        );
        break;
      }
      case "createForeignKey": {
        const named = columns.all(op.constraint.columns);
        later(() =>
          operation.createForeignKey(op.table, {
            ...op.constraint,
            columns: named.map((c) => c.name),
          })
        );
        break;
      }
      default:
        later(() => op);
    }
  }
  return { renames, rest: pending.map((build) => build()) };
}

/** A column of a batch, known by identity while renames move its name. */
interface BatchColumn {
  name: string;
}

/** The columns a batch's operations have named so far, by their names at the current point. */
class BatchColumns {
  /** Current name (lower case) -> column. */
  readonly #current = new Map<string, BatchColumn>();
  /** Names an earlier rename took away (lower case) -> the column that had it. */
  readonly #former = new Map<string, BatchColumn>();

  /** The column `name` stands for at this point of the batch. */
  at(name: string): BatchColumn {
    const key = foldIdentifier(name);
    const known = this.#current.get(key) ?? this.#former.get(key);
    if (known) return known;
    const column = { name };
    this.#current.set(key, column);
    return column;
  }

  all(names: readonly string[]): BatchColumn[] {
    return names.map((name) => this.at(name));
  }

  rename(column: BatchColumn, to: string): void {
    this.#current.delete(foldIdentifier(column.name));
    this.#former.set(foldIdentifier(column.name), column);
    // The new name now means this column, whatever it meant before.
    this.#former.delete(foldIdentifier(to));
    this.#current.set(foldIdentifier(to), column);
    column.name = to;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading a CREATE TABLE statement

/** A column constraint (or the collation) of a column definition, as written. */
interface Segment {
  /** `PRIMARY`, `NOT NULL`, `NULL`, `UNIQUE`, `CHECK`, `DEFAULT`, `COLLATE`, `REFERENCES`, ... */
  readonly keyword: string;
  readonly name?: string;
  readonly text: string;
}

interface ColumnItem {
  readonly kind: "column";
  name: string;
  nameText: string;
  type: string;
  segments: Segment[];
  /** The expression that fills it from the old table; undefined for a new column. */
  source?: string;
  readonly generated: boolean;
}

interface ConstraintItem {
  readonly kind: "constraint";
  readonly keyword: string;
  readonly name?: string;
  readonly text: string;
}

type TableItem = ColumnItem | ConstraintItem;

const COLUMN_CONSTRAINT_STARTS = new Set([
  "CONSTRAINT",
  "PRIMARY",
  "NOT",
  "NULL",
  "UNIQUE",
  "CHECK",
  "DEFAULT",
  "COLLATE",
  "REFERENCES",
  "GENERATED",
  "AS",
]);

const TABLE_CONSTRAINT_STARTS = new Set(["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]);

function word(token: SqlToken | undefined): string {
  return token?.kind === "word" ? token.text.toUpperCase() : "";
}

/**
 * A `--` comment as a block comment: the rebuilt definition is joined onto one line, where a
 * line comment would swallow everything after it.
 */
function asBlockComment(token: SqlToken): SqlToken {
  if (token.kind !== "comment" || !token.text.startsWith("--")) return token;
  return { kind: "comment", text: `/* ${token.text.slice(2).trim().replaceAll("*/", "* /")} */` };
}

function parseCreateTable(table: string, sql: string): {
  items: TableItem[];
  suffix: string;
} {
  const tokens = tokenize(sql).map(asBlockComment);
  const open = tokens.findIndex((token) => token.kind === "punct" && token.text === "(");
  if (open < 0) {
    throw new UnsupportedOperationError(
      "batch",
      "sqlite",
      `Cannot rebuild table ${table}: its definition has no column list (${sql})`,
    );
  }
  let depth = 0;
  let close = -1;
  for (let i = open; i < tokens.length; i++) {
    if (tokens[i].kind === "punct" && tokens[i].text === "(") depth++;
    if (tokens[i].kind === "punct" && tokens[i].text === ")" && --depth === 0) {
      close = i;
      break;
    }
  }
  const body = tokens.slice(open + 1, close);
  const items = splitTopLevel(body, ",").map((part) => parseItem(part));
  return { items, suffix: joinTokens(tokens.slice(close + 1)) };
}

function parseItem(tokens: SqlToken[]): TableItem {
  const significant = tokens.filter(isSignificant);
  const first = word(significant[0]);
  if (TABLE_CONSTRAINT_STARTS.has(first)) {
    const named = first === "CONSTRAINT";
    return {
      kind: "constraint",
      keyword: named ? word(significant[2]) : first,
      name: named ? identifierOf(significant[1]) : undefined,
      text: joinTokens(tokens),
    };
  }
  return parseColumn(tokens);
}

function parseColumn(tokens: SqlToken[]): ColumnItem {
  const nameIndex = tokens.findIndex(isSignificant);
  const nameToken = tokens[nameIndex];
  const rest = tokens.slice(nameIndex + 1);
  const typeTokens: SqlToken[] = [];
  const segments: SqlToken[][] = [];
  let depth = 0;
  // After DEFAULT the value is one token (plus a sign), which may itself be a keyword (NULL).
  let absorb = 0;
  let inType = true;
  const nextSignificant = (from: number) => rest.slice(from + 1).find(isSignificant);
  // In `ON DELETE SET NULL` / `SET DEFAULT` the word after SET belongs to the REFERENCES clause.
  let afterSet = false;
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i];
    const upper = word(token);
    const starts = depth === 0 && absorb === 0 && !afterSet &&
      COLUMN_CONSTRAINT_STARTS.has(upper) &&
      (upper !== "NOT" || word(nextSignificant(i)) === "NULL");
    if (starts) {
      inType = false;
      const current = segments[segments.length - 1];
      const bareConstraintName = current !== undefined &&
        word(current.find(isSignificant)) === "CONSTRAINT" &&
        current.filter(isSignificant).length === 2;
      if (!bareConstraintName) segments.push([]);
    }
    if (inType) typeTokens.push(token);
    else segments[segments.length - 1].push(token);
    if (token.kind === "punct" && token.text === "(") depth++;
    if (token.kind === "punct" && token.text === ")") depth--;
    if (isSignificant(token) && absorb > 0 && !starts) {
      absorb = token.kind === "punct" && (token.text === "-" || token.text === "+") ? 1 : 0;
    }
    if (starts && (upper === "DEFAULT" || upper === "COLLATE")) absorb = 1;
    if (isSignificant(token)) afterSet = upper === "SET";
  }
  const parsedSegments = segments.map(toSegment);
  // SQLite takes a string in the name's place as the name (`'full name' TEXT`); in the copy's
  // SELECT list the same text would be a string, so the copy names columns quoted as identifiers.
  const name = nameToken.kind === "string" && nameToken.text.startsWith("'")
    ? nameToken.text.slice(1, -1).replaceAll("''", "'")
    : identifierOf(nameToken) ?? nameToken.text;
  return {
    kind: "column",
    name,
    nameText: nameToken.text,
    type: joinTokens(typeTokens),
    segments: parsedSegments,
    source: quoteIdent(name),
    generated: parsedSegments.some((s) => s.keyword === "GENERATED" || s.keyword === "AS"),
  };
}

function toSegment(tokens: SqlToken[]): Segment {
  const significant = tokens.filter(isSignificant);
  const named = word(significant[0]) === "CONSTRAINT";
  const head = named ? significant.slice(2) : significant;
  const first = word(head[0]);
  const keyword = first === "NOT" ? "NOT NULL" : first;
  return {
    keyword,
    name: named ? identifierOf(significant[1]) : undefined,
    text: joinTokens(tokens),
  };
}

function renderItem(item: TableItem): string {
  if (item.kind === "constraint") return item.text;
  return [item.nameText, item.type, ...item.segments.map((s) => s.text)]
    .filter((part) => part !== "").join(" ");
}

/** A column's enum CHECK (`CHECK (col IN (...))`), which belongs to its type. */
function isEnumCheck(segment: Segment, column: string): boolean {
  if (segment.keyword !== "CHECK" || segment.name !== undefined) return false;
  const significant = tokenize(segment.text).filter(isSignificant);
  return significant[1]?.text === "(" &&
    sameIdentifier(identifierOf(significant[2]) ?? "", column) &&
    word(significant[3]) === "IN";
}

/**
 * True when SQL text (an index's columns, a constraint) uses column `name`. A name followed by
 * `(` is a function call, not the column: an index on `lower(name)` does not use a column
 * `lower`, and dropping that column must not take the index with it.
 */
function usesColumn(sql: string, name: string): boolean {
  const tokens = tokenize(sql).filter(isSignificant);
  return tokens.some((token, i) =>
    sameIdentifier(identifierOf(token) ?? "", name) &&
    !(tokens[i + 1]?.kind === "punct" && tokens[i + 1].text === "(")
  );
}

/** True for a table declared `WITHOUT ROWID`: its rows have no rowid to keep. */
function isWithoutRowid(suffix: string): boolean {
  const words = tokenize(suffix).filter(isSignificant).map(word);
  return words.some((w, i) => w === "WITHOUT" && words[i + 1] === "ROWID");
}

/** The significant words of a column's declared type, upper case, one space apart. */
function typeWords(column: ColumnItem): string {
  return tokenize(column.type).filter(isSignificant).map((t) => t.text.toUpperCase()).join(" ");
}

/**
 * The column that is the table's rowid alias, if any: by SQLite's rule, a column declared with
 * the type exactly `INTEGER` that is the whole primary key of a rowid table (except when the
 * column itself says `PRIMARY KEY DESC`, a quirk SQLite keeps).
 */
function rowidAlias(items: readonly TableItem[], suffix: string): ColumnItem | undefined {
  if (isWithoutRowid(suffix)) return undefined;
  const columns = items.filter((item): item is ColumnItem => item.kind === "column");
  for (const column of columns) {
    const key = column.segments.find((segment) => segment.keyword === "PRIMARY");
    if (key === undefined) continue;
    const descending = tokenize(key.text).some((token) => word(token) === "DESC");
    return typeWords(column) === "INTEGER" && !descending ? column : undefined;
  }
  const key = items.find((item): item is ConstraintItem =>
    item.kind === "constraint" && item.keyword === "PRIMARY"
  );
  if (key === undefined) return undefined;
  const tokens = tokenize(afterFirstParen(key.text)).filter(isSignificant);
  const close = tokens.findIndex((token) => token.kind === "punct" && token.text === ")");
  const parts = splitTopLevel(tokens.slice(1, close < 0 ? undefined : close), ",");
  if (parts.length !== 1 || parts[0].length === 0) return undefined;
  const name = identifierOf(parts[0][0]);
  const column = name === undefined ? undefined : columns.find((c) => sameIdentifier(c.name, name));
  return column !== undefined && typeWords(column) === "INTEGER" ? column : undefined;
}

/** Types SQLite stores as integers, which the rowid alias can keep by staying `INTEGER`. */
function isIntegerType(type: ColumnType): boolean {
  return type.type === "integer" || type.type === "bigint" || type.type === "smallint" ||
    (type.type === "raw" && type.sql.trim().toUpperCase() === "INTEGER");
}

/**
 * A name the rowid answers to in a table with these columns (a column may take `rowid`, and
 * then `_rowid_` or `oid` still mean the rowid), or undefined when columns take all three.
 */
function rowidName(columns: readonly ColumnItem[]): string | undefined {
  const taken = new Set(columns.map((column) => foldIdentifier(column.name)));
  return ["rowid", "_rowid_", "oid"].find((name) => !taken.has(name));
}

/** A counter as SQL: SQLite's own text of a number goes back as written, anything else quoted. */
function sequenceLiteral(seq: string): string {
  return /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(seq) ? seq : quoteLiteral(seq);
}

/** The tokens after the first `(`: the part of an index or constraint that names columns. */
function afterFirstParen(sql: string): string {
  const at = sql.indexOf("(");
  return at < 0 ? "" : sql.slice(at);
}

/** A FOREIGN KEY's own columns (not the referenced ones). */
function localPart(item: ConstraintItem): string {
  const at = item.text.toUpperCase().indexOf("REFERENCES");
  return afterFirstParen(at < 0 ? item.text : item.text.slice(0, at));
}

// ---------------------------------------------------------------------------------------------
// Planning

/**
 * The statements that rebuild `table` once with every operation of a batch applied, in order.
 *
 * Throws `UnsupportedOperationError` for an operation that cannot be part of a rebuild (a
 * column rename: run it natively first, see {@link splitBatchRenames}), a column that does not
 * exist, or a NOT NULL column added without a default.
 *
 * @example
 * ```ts
 * import { planRebuild } from "./sqlite_rebuild.ts";
 * const statements = planRebuild(
 *   { name: "t", sql: "CREATE TABLE t (a INTEGER, b TEXT)", indexes: [], triggers: [], views: [] },
 *   [{ kind: "dropColumn", table: "t", column: "b" }],
 * );
 * // CREATE TABLE _strata_tmp_t (a INTEGER), INSERT ... SELECT, DROP TABLE t, ALTER TABLE ... RENAME
 * ```
 */
export function planRebuild(table: SqliteTableInfo, operations: readonly Operation[]): string[] {
  return planTableRebuild(table, operations).statements;
}

/** A planned rebuild: its statements, and what the caller checks once they ran. */
export interface RebuildPlan {
  readonly statements: string[];
  /** The views the rebuild drops and creates again, in creation order. */
  readonly views: readonly SqliteSchemaObject[];
  /** The triggers the rebuild creates again (its own and others that name it), in order. */
  readonly triggers: readonly SqliteSchemaObject[];
  /** The columns the batch drops: a recreated view or trigger may still use one. */
  readonly droppedColumns: readonly string[];
}

/** {@link planRebuild}, with the views, triggers and dropped columns the caller verifies. */
export function planTableRebuild(
  table: SqliteTableInfo,
  operations: readonly Operation[],
): RebuildPlan {
  const { items, suffix } = parseCreateTable(table.name, table.sql);
  const droppedColumns: string[] = [];
  let indexes = [...table.indexes];
  const newIndexes: { name: string; statements: readonly string[] }[] = [];
  const fail = (op: Operation, message: string): never => {
    throw new UnsupportedOperationError(op.kind, "sqlite", message);
  };
  const columns = () => items.filter((item): item is ColumnItem => item.kind === "column");
  const findColumn = (op: Operation, name: string): ColumnItem =>
    columns().find((c) => c.name === name) ??
      columns().find((c) => sameIdentifier(c.name, name)) ??
      fail(op, `Cannot alter column ${table.name}.${name}: no such column`);
  const removeItems = (drop: (item: TableItem) => boolean) => {
    for (let i = items.length - 1; i >= 0; i--) if (drop(items[i])) items.splice(i, 1);
  };

  for (const op of operations) {
    switch (op.kind) {
      case "addColumn": {
        const name = op.column.name;
        if (columns().some((c) => sameIdentifier(c.name, name))) {
          fail(op, `Cannot add column ${table.name}.${name}: the table already has it`);
        }
        if (
          op.column.nullable === false && (op.column.default === undefined ||
            op.column.default === null) &&
          !op.column.primaryKey
        ) {
          fail(
            op,
            `Cannot add column ${table.name}.${name}: it is NOT NULL without a default, so ` +
              `existing rows would have no value; give it a default`,
          );
        }
        const parsed = parseColumn(tokenize(renderSqliteColumn(op.column, true)));
        items.splice(columns().length, 0, { ...parsed, source: undefined });
        break;
      }
      case "dropColumn": {
        const column = findColumn(op, op.column);
        if (columns().length === 1) {
          fail(op, `Cannot drop column ${table.name}.${op.column}: it is the table's only column`);
        }
        items.splice(items.indexOf(column), 1);
        droppedColumns.push(column.name);
        // As PostgreSQL does: constraints and indexes that involve the column go with it.
        removeItems((item) =>
          item.kind === "constraint" &&
          usesColumn(
            item.keyword === "FOREIGN" ? localPart(item) : afterFirstParen(item.text),
            op.column,
          )
        );
        for (const other of columns()) {
          other.segments = other.segments.filter((s) =>
            !(s.keyword === "CHECK" && usesColumn(s.text, op.column))
          );
        }
        indexes = indexes.filter((index) => !usesColumn(afterFirstParen(index.sql), op.column));
        break;
      }
      case "alterColumn": {
        const changes = op.changes;
        if (changes.newName !== undefined) {
          fail(
            op,
            `Cannot plan the rename of ${table.name}.${op.column} in a rebuild: run ALTER TABLE ` +
              `RENAME COLUMN first (batchAlterTable does)`,
          );
        }
        const column = findColumn(op, op.column);
        if (changes.type !== undefined) {
          column.type = rowidAlias(items, suffix) === column
            ? rowidAliasType(table.name, column.name, changes.type)
            : renderSqliteType(changes.type);
          column.segments = column.segments.filter((s) => !isEnumCheck(s, column.name));
          const enumCheck = sqliteEnumCheck(column.name, changes.type);
          if (enumCheck) column.segments.push({ keyword: "CHECK", text: `CHECK (${enumCheck})` });
        }
        if (changes.nullable !== undefined) {
          column.segments = column.segments.filter((s) =>
            s.keyword !== "NOT NULL" && s.keyword !== "NULL"
          );
          if (!changes.nullable) column.segments.unshift({ keyword: "NOT NULL", text: "NOT NULL" });
        }
        if (changes.default !== undefined) {
          column.segments = column.segments.filter((s) => s.keyword !== "DEFAULT");
          if (changes.default !== null) {
            column.segments.push({
              keyword: "DEFAULT",
              text: `DEFAULT ${renderDefault(changes.default, SQLITE_LITERALS)}`,
            });
          }
        }
        if (changes.using !== undefined) column.source = changes.using;
        break;
      }
      case "createPrimaryKey": {
        for (const column of columns()) {
          column.segments = column.segments.filter((s) => s.keyword !== "PRIMARY");
        }
        removeItems((item) => item.kind === "constraint" && item.keyword === "PRIMARY");
        items.push(constraintItem("PRIMARY", op.name, renderPrimaryKey(op.columns, op.name)));
        break;
      }
      case "createUnique":
        items.push(
          constraintItem("UNIQUE", op.constraint.name, renderUnique(op.constraint)),
        );
        break;
      case "createCheck":
        items.push(constraintItem("CHECK", op.constraint.name, renderCheck(op.constraint)));
        break;
      case "createForeignKey":
        items.push(
          constraintItem("FOREIGN", op.constraint.name, renderForeignKey(op.constraint)),
        );
        break;
      case "dropConstraint": {
        const wanted = (name: string | undefined) =>
          name !== undefined && sameIdentifier(name, op.name);
        const before = JSON.stringify(items);
        removeItems((item) => item.kind === "constraint" && wanted(item.name));
        for (const column of columns()) {
          column.segments = column.segments.filter((s) => !wanted(s.name));
        }
        if (JSON.stringify(items) === before) {
          const named = [
            ...items.flatMap((item) => item.kind === "constraint" && item.name ? [item.name] : []),
            ...columns().flatMap((c) => c.segments.flatMap((s) => s.name ? [s.name] : [])),
          ];
          fail(
            op,
            `Cannot drop constraint ${op.name} on ${table.name}: the table has no constraint of ` +
              `that name (named constraints: ${named.length ? named.join(", ") : "none"}; ` +
              `SQLite knows unnamed constraints by no name)`,
          );
        }
        break;
      }
      case "createIndex":
        newIndexes.push({ name: op.name, statements: renderSqliteOperation(op).statements });
        break;
      case "dropIndex": {
        const known = indexes.length + newIndexes.length;
        indexes = indexes.filter((index) => !sameIdentifier(index.name, op.name));
        const pending = newIndexes.findIndex((index) => sameIdentifier(index.name, op.name));
        if (pending >= 0) newIndexes.splice(pending, 1);
        if (indexes.length + newIndexes.length === known && !op.ifExists) {
          fail(op, `Cannot drop index ${op.name}: table ${table.name} has no index of that name`);
        }
        break;
      }
      default:
        fail(
          op,
          `Cannot use ${op.kind} inside batchAlterTable("${table.name}"): a batch holds column, ` +
            `constraint and index changes of its table; call op.${op.kind} outside the batch`,
        );
    }
  }

  const name = quoteIdent(table.name);
  const temp = quoteIdent(rebuildTempName(table.name));
  const created = `CREATE TABLE ${temp} (${items.map(renderItem).join(", ")})` +
    (suffix ? ` ${suffix}` : "");
  const copied = columns().filter((c) => c.source !== undefined && !c.generated);
  // A rowid table without an alias column numbers its rows by itself, and the copy would
  // renumber them; copy the rowid too, for what stores it (FTS content tables, references).
  const rowidFrom = rowidName(
    parseCreateTable(table.name, table.sql).items.filter(
      (item): item is ColumnItem => item.kind === "column",
    ),
  );
  const rowidTo = rowidName(columns());
  const keepRowid = !isWithoutRowid(suffix) && rowidAlias(items, suffix) === undefined &&
    rowidFrom !== undefined && rowidTo !== undefined;

  // Views naming the table (and views naming those) would stop the rename: drop and recreate.
  // Triggers of the table go with DROP TABLE; triggers elsewhere that name it are dropped too.
  const involved = new Set([foldIdentifier(table.name)]);
  const views: SqliteSchemaObject[] = [];
  for (let changed = true; changed;) {
    changed = false;
    for (const view of table.views) {
      if (involved.has(foldIdentifier(view.name))) continue;
      if ([...involved].some((n) => mentionsIdentifier(view.sql, n))) {
        involved.add(foldIdentifier(view.name));
        changed = true;
      }
    }
  }
  views.push(...table.views.filter((view) => involved.has(foldIdentifier(view.name))));
  const triggers = table.triggers.filter((trigger) =>
    involved.has(foldIdentifier(trigger.table)) ||
    [...involved].some((n) => mentionsIdentifier(trigger.sql, n))
  );
  const triggersToDrop = triggers.filter((trigger) => !involved.has(foldIdentifier(trigger.table)));

  const statements: string[] = [
    ...[...views].reverse().map((view) => `DROP VIEW ${quoteIdent(view.name)}`),
    ...triggersToDrop.map((trigger) => `DROP TRIGGER ${quoteIdent(trigger.name)}`),
    created,
  ];
  if (copied.length > 0) {
    const targets = copied.map((c) => quoteIdent(c.name));
    const sources = copied.map((c) => c.source);
    if (keepRowid) {
      targets.unshift(rowidTo!);
      sources.unshift(rowidFrom!);
    }
    statements.push(
      // OR ABORT: a table's own ON CONFLICT IGNORE/REPLACE clauses must not drop rows of the copy.
      `INSERT OR ABORT INTO ${temp} (${targets.join(", ")}) SELECT ${
        sources.join(", ")
      } FROM ${name}`,
    );
  }
  statements.push(`DROP TABLE ${name}`, `ALTER TABLE ${temp} RENAME TO ${name}`);
  if (table.autoincrementSeq !== undefined && /\bAUTOINCREMENT\b/i.test(created)) {
    // The copy leaves the counter at the largest id copied; restore the one that was there,
    // so ids of deleted rows are never handed out again.
    statements.push(
      `DELETE FROM sqlite_sequence WHERE name = ${quoteLiteral(table.name)}`,
      `INSERT INTO sqlite_sequence (name, seq) VALUES (${quoteLiteral(table.name)}, ${
        sequenceLiteral(table.autoincrementSeq)
      })`,
    );
  }
  statements.push(
    ...indexes.map((index) => index.sql),
    ...newIndexes.flatMap((index) => index.statements),
    ...views.map((view) => view.sql),
    ...triggers.map((trigger) => trigger.sql),
  );
  // A column dropped and added again under its name is there for views and triggers to use.
  const kept = new Set(columns().map((column) => foldIdentifier(column.name)));
  return {
    statements,
    views,
    triggers,
    droppedColumns: droppedColumns.filter((column) => !kept.has(foldIdentifier(column))),
  };
}

/**
 * The type a new type of the rowid alias column is written as. Only the spelling `INTEGER`
 * keeps the column the alias (createTable writes autoincrement keys so for the same reason):
 * as `BIGINT` it would become an ordinary key that new rows leave NULL, and AUTOINCREMENT would
 * be refused. A type that is not an integer cannot be the alias, so it is refused.
 */
function rowidAliasType(table: string, column: string, type: ColumnType): string {
  if (isIntegerType(type)) return "INTEGER";
  throw new UnsupportedOperationError(
    "alterColumn",
    "sqlite",
    `Cannot change the type of ${table}.${column} to ${renderSqliteType(type)}: it is the ` +
      `table's INTEGER PRIMARY KEY, the alias of the rowid, and any other type would make it an ` +
      `ordinary key column that new rows leave NULL; keep an integer type (written INTEGER)`,
  );
}

function constraintItem(keyword: string, name: string | undefined, text: string): ConstraintItem {
  return { kind: "constraint", keyword, name, text };
}
