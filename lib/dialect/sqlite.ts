/**
 * SQLite: VARCHAR+CHECK enums, `BEGIN IMMEDIATE`, table rebuilds for most ALTERs.
 *
 * What SQLite's `ALTER TABLE` does natively runs directly: create, drop and rename tables, add a
 * column SQLite can add (nullable, or with a constant default), rename and drop a column,
 * create and drop indexes. Everything else needs `batchAlterTable`, which rebuilds the table
 * once (see `sqlite_rebuild.ts`); outside a batch such operations fail and say so. Options
 * that mean nothing here (`using`, `include`, `opclass`, `concurrently`) are skipped with a
 * comment, and enum types exist only as CHECK constraints on their columns.
 *
 * @module
 */

import type { Dialect, Rendered } from "./dialect.ts";
import type { Operation } from "../ops/operations.ts";
import type { ColumnDef, ColumnType } from "../ops/types.ts";
import type { Executor } from "../ops/executor.ts";
import { ForeignKeyViolationError, UnsupportedOperationError } from "../ops/errors.ts";
import { quoteIdent, quoteLiteral } from "./quote.ts";
import { identifierOf, isSignificant, sameIdentifier, tokenize } from "../sql/lexer.ts";
import {
  columnList,
  concat,
  type LiteralStyle,
  renderBulkInsert,
  renderColumnDefinition,
  renderCreateTable,
  renderCreateVersionTable,
  renderStandardType,
  runRendered,
  tablePrimaryKey,
} from "./ddl.ts";
import {
  batchNeedsRebuild,
  planTableRebuild,
  type RebuildPlan,
  splitBatchRenames,
  type SqliteSchemaObject,
  type SqliteTableInfo,
} from "./sqlite_rebuild.ts";

/** Booleans as 1/0 (what SQLite stores), bytes as blob literals. */
export const SQLITE_LITERALS: LiteralStyle = Object.freeze({
  true: "1",
  false: "0",
  bytes: (hex: string) => `X'${hex}'`,
});

/**
 * A portable type as SQLite spells it. The names are chosen for their affinity and to match
 * what SQLAlchemy (and so Alembic-managed databases such as Prefect's) wrote: `CHAR(36)` for
 * UUIDs as hyphenated text, `DATETIME` for timestamps and intervals (ISO-8601 text), `JSON`.
 */
export function renderSqliteType(type: ColumnType): string {
  switch (type.type) {
    case "float":
      return "FLOAT";
    case "uuid":
      return "CHAR(36)";
    case "json":
    case "jsonb":
      return "JSON";
    case "timestamp":
    case "interval":
      return "DATETIME";
    case "blob":
      return "BLOB";
    case "enum":
      if (type.values.length === 0) {
        // PostgreSQL can name an existing type; SQLite has only the CHECK, which needs values.
        throw new UnsupportedOperationError(
          "enum",
          "sqlite",
          `Cannot use enum ${type.name} on sqlite: it lists no values, and SQLite keeps an ` +
            `enum as a CHECK on the column; list them in t.enum("${type.name}", [...])`,
        );
      }
      return `VARCHAR(${Math.max(...type.values.map((value) => value.length))})`;
    default:
      return renderStandardType(type);
  }
}

/** The CHECK expression that stands for an enum type on SQLite, or undefined for other types. */
export function sqliteEnumCheck(column: string, type: ColumnType): string | undefined {
  if (type.type !== "enum") return undefined;
  return `${quoteIdent(column)} IN (${type.values.map(quoteLiteral).join(", ")})`;
}

/** One column's definition; `inlinePrimaryKey` is false when the table declares a composite key. */
export function renderSqliteColumn(column: ColumnDef, inlinePrimaryKey: boolean): string {
  if (column.autoincrement && !column.primaryKey) {
    throw new UnsupportedOperationError(
      "createTable",
      "sqlite",
      `Cannot make column ${column.name} autoincrement: SQLite's AUTOINCREMENT needs an ` +
        `INTEGER PRIMARY KEY; add primaryKey: true`,
    );
  }
  const check = sqliteEnumCheck(column.name, column.type);
  return renderColumnDefinition(column, {
    // Only a column typed exactly INTEGER is the rowid alias that AUTOINCREMENT works on.
    type: column.autoincrement ? "INTEGER" : renderSqliteType(column.type),
    primaryKeySuffix: column.autoincrement ? "AUTOINCREMENT" : undefined,
    checks: check ? [check] : [],
    inlinePrimaryKey,
    literals: SQLITE_LITERALS,
  });
}

/**
 * Why SQLite's `ALTER TABLE ADD COLUMN` cannot add this column, or undefined when it can.
 * (SQLite refuses PRIMARY KEY and UNIQUE columns, NOT NULL without a non-NULL default, and
 * defaults that are not constants.)
 */
export function sqliteNativeAddColumnProblem(column: ColumnDef): string | undefined {
  if (column.primaryKey) return "a PRIMARY KEY column cannot be added";
  if (column.unique) return "a UNIQUE column cannot be added";
  if (column.nullable === false && (column.default === undefined || column.default === null)) {
    return "a NOT NULL column needs a default for the existing rows";
  }
  const value = column.default;
  if (
    value !== null && typeof value === "object" &&
    /^\s*\(|\bCURRENT_(TIME|DATE|TIMESTAMP)\b/i.test(value.raw)
  ) {
    return "a column with a non-constant default cannot be added";
  }
  return undefined;
}

function unsupported(op: Operation, message: string): never {
  throw new UnsupportedOperationError(op.kind, "sqlite", message);
}

function needsBatch(op: Operation & { table: string }, what: string, call: string): never {
  return unsupported(
    op,
    `Cannot ${what} on table ${op.table}: SQLite's ALTER TABLE cannot do it; use ` +
      `op.batchAlterTable("${op.table}", (b) => b.${call}) to rebuild the table`,
  );
}

function statements(...sql: string[]): Rendered {
  return { statements: sql, comments: [] };
}

/** Pure rendering of one operation for SQLite (see `Dialect.renderOperation`). */
export function renderSqliteOperation(op: Operation): Rendered {
  switch (op.kind) {
    case "createTable": {
      const inline = tablePrimaryKey(op.columns, op.options) === undefined;
      const definitions = op.columns.map((column) => renderSqliteColumn(column, inline));
      return statements(renderCreateTable(op.table, definitions, op.columns, op.options));
    }
    case "dropTable":
      return statements(`DROP TABLE ${op.ifExists ? "IF EXISTS " : ""}${quoteIdent(op.table)}`);
    case "renameTable":
      return statements(`ALTER TABLE ${quoteIdent(op.from)} RENAME TO ${quoteIdent(op.to)}`);
    case "addColumn": {
      const problem = sqliteNativeAddColumnProblem(op.column);
      if (problem) {
        return unsupported(
          op,
          `Cannot add column ${op.table}.${op.column.name}: ${problem} by SQLite's ALTER TABLE; ` +
            `use op.batchAlterTable("${op.table}", (b) => b.addColumn(...)) to rebuild the table`,
        );
      }
      return statements(
        `ALTER TABLE ${quoteIdent(op.table)} ADD COLUMN ${renderSqliteColumn(op.column, true)}`,
      );
    }
    case "dropColumn":
      return statements(
        `ALTER TABLE ${quoteIdent(op.table)} DROP COLUMN ${quoteIdent(op.column)}`,
      );
    case "alterColumn": {
      const { newName, ...others } = op.changes;
      if (Object.values(others).some((value) => value !== undefined) || newName === undefined) {
        return needsBatch(
          op,
          `alter column ${op.column} (type, nullability or default)`,
          `alterColumn("${op.column}", ...)`,
        );
      }
      return statements(
        `ALTER TABLE ${quoteIdent(op.table)} RENAME COLUMN ${quoteIdent(op.column)} TO ${
          quoteIdent(newName)
        }`,
      );
    }
    case "createPrimaryKey":
      return needsBatch(op, "create a primary key", "createPrimaryKey([...])");
    case "createUnique":
      return needsBatch(op, "add a unique constraint", "createUnique({...})");
    case "createCheck":
      return needsBatch(op, "add a check constraint", "createCheck({...})");
    case "createForeignKey":
      return needsBatch(op, "add a foreign key", "createForeignKey({...})");
    case "dropConstraint":
      return needsBatch(op, `drop constraint ${op.name}`, `dropConstraint("${op.name}")`);
    case "createIndex": {
      const comments: string[] = [];
      const o = op.options;
      if (o.using !== undefined) comments.push(`using ${o.using} skipped on sqlite (${op.name})`);
      if (o.include?.length) {
        comments.push(`include (${columnList(o.include)}) skipped on sqlite (${op.name})`);
      }
      if (o.opclass && Object.keys(o.opclass).length) {
        const classes = Object.entries(o.opclass).map(([column, name]) => `${column} ${name}`);
        comments.push(`opclass ${classes.join(", ")} skipped on sqlite (${op.name})`);
      }
      if (o.concurrently) comments.push(`concurrently skipped on sqlite (${op.name})`);
      const columns = op.columns.map((c) =>
        typeof c === "string" ? quoteIdent(c) : `(${c.expression})`
      );
      return {
        statements: [
          `CREATE ${o.unique ? "UNIQUE " : ""}INDEX ${o.ifNotExists ? "IF NOT EXISTS " : ""}${
            quoteIdent(op.name)
          } ON ${quoteIdent(op.table)} (${columns.join(", ")})${
            o.where ? ` WHERE ${o.where}` : ""
          }`,
        ],
        comments,
      };
    }
    case "dropIndex":
      return {
        statements: [`DROP INDEX ${op.ifExists ? "IF EXISTS " : ""}${quoteIdent(op.name)}`],
        comments: op.concurrently ? [`concurrently skipped on sqlite (${op.name})`] : [],
      };
    case "createEnum":
      return {
        statements: [],
        comments: [`enum ${op.name}: nothing to create on sqlite (a CHECK on each column)`],
      };
    case "dropEnum":
      return {
        statements: [],
        comments: [`enum ${op.name}: nothing to drop on sqlite (a CHECK on each column)`],
      };
    case "addEnumValue":
      return unsupported(
        op,
        `Cannot add value ${quoteLiteral(op.value)} to enum ${op.name} on sqlite: the enum is a ` +
          `CHECK on each column that uses it; change each such column with ` +
          `op.batchAlterTable(table, (b) => b.alterColumn(column, { type: t.enum(...) }))`,
      );
    case "execute":
      return statements(op.sql);
    case "bulkInsert":
      return statements(...renderBulkInsert(op.table, op.rows, SQLITE_LITERALS));
    case "batch": {
      if (batchNeedsRebuild(op.operations)) {
        return unsupported(
          op,
          `Cannot render batchAlterTable("${op.table}") without the database: rebuilding the ` +
            `table needs its current definition (use applyOperation, or planRebuild with it)`,
        );
      }
      return concat(op.operations.map(renderSqliteOperation));
    }
  }
}

/**
 * Read what a rebuild of `table` needs from `sqlite_master` and `sqlite_sequence`.
 * In a dry run the executor answers from its shadow copy of the schema.
 */
export async function readSqliteTable(executor: Executor, table: string): Promise<SqliteTableInfo> {
  const rows = await executor.query<{ type: string; name: string; tbl_name: string; sql: string }>(
    "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid",
  );
  // An exact match first: SQLite folds ASCII letters only, and names may differ in case alone.
  const own = rows.find((row) => row.type === "table" && row.name === table) ??
    rows.find((row) => row.type === "table" && sameIdentifier(row.name, table));
  if (!own) {
    throw new UnsupportedOperationError(
      "batch",
      "sqlite",
      `Cannot alter table ${table}: no such table in the database`,
    );
  }
  const pick = (type: string) =>
    rows.filter((row) => row.type === type).map((row): SqliteSchemaObject => ({
      name: row.name,
      table: row.tbl_name,
      sql: row.sql,
    }));
  let autoincrementSeq: string | undefined;
  if (rows.some((row) => row.name === "sqlite_sequence")) {
    // As text: a counter past 2^53 does not fit a JavaScript number, and is written back as is.
    const seq = await executor.query<{ seq: string | null }>(
      "SELECT CAST(seq AS TEXT) AS seq FROM sqlite_sequence WHERE name = $1",
      [own.name],
    );
    if (seq.length > 0 && seq[0].seq !== null) autoincrementSeq = String(seq[0].seq);
  }
  return {
    name: own.name,
    sql: own.sql,
    indexes: pick("index").filter((index) => sameIdentifier(index.table, own.name)),
    triggers: pick("trigger"),
    views: pick("view"),
    ...(autoincrementSeq === undefined ? {} : { autoincrementSeq }),
  };
}

/** Tables with a foreign key to `table` (itself included when it references itself). */
export async function referencingTables(
  executor: Pick<Executor, "query">,
  table: string,
): Promise<string[]> {
  const rows = await executor.query<{ name: string }>(
    "SELECT DISTINCT m.name AS name FROM sqlite_master m, pragma_foreign_key_list(m.name) f " +
      "WHERE m.type = 'table' AND f.\"table\" = $1 COLLATE NOCASE",
    [table],
  );
  return rows.map((row) => row.name);
}

/**
 * Check the foreign keys of a rebuilt table and of the tables that reference it; throws
 * `ForeignKeyViolationError` listing the offending rows (the caller rolls back).
 */
export async function checkSqliteForeignKeys(executor: Executor, table: string): Promise<void> {
  const referencing = await referencingTables(executor, table);
  const tables = [table, ...referencing.filter((name) => name !== table)];
  const violations = [];
  for (const name of tables) {
    const rows = await executor.query<
      { table: string; rowid: number | null; parent: string; fkid: number }
    >(`PRAGMA foreign_key_check(${quoteIdent(name)})`);
    for (const row of rows) {
      violations.push({
        table: row.table,
        rowid: row.rowid === null ? null : Number(row.rowid),
        parent: row.parent,
        fkid: Number(row.fkid),
      });
    }
  }
  if (violations.length > 0) throw new ForeignKeyViolationError(table, violations);
}

async function applySqliteBatch(
  op: Extract<Operation, { kind: "batch" }>,
  executor: Executor,
): Promise<void> {
  if (!batchNeedsRebuild(op.operations)) {
    const rendered = renderSqliteOperation(op);
    // Inside a transaction the migration's rollback covers it; outside, a savepoint keeps the
    // batch whole (a failed index after two renames must not leave the renames committed).
    if (executor.inTransaction) return runRendered(rendered, executor);
    return inSavepoint(executor, () => runRendered(rendered, executor));
  }
  // With enforcement on, dropping the old table deletes its rows first, and ON DELETE CASCADE
  // would empty the children. The switch cannot be flipped inside a transaction, so refuse.
  const [enforcement] = await executor.query<{ foreign_keys: number }>("PRAGMA foreign_keys");
  if (Number(enforcement?.foreign_keys ?? 0) === 1) {
    const children = await referencingTables(executor, op.table);
    if (children.length > 0) {
      throw new UnsupportedOperationError(
        "batch",
        "sqlite",
        `Cannot rebuild table ${op.table}: foreign keys are enforced and ${children.join(", ")} ` +
          `reference it, so dropping the old table would delete or reject their rows; run with ` +
          `PRAGMA foreign_keys = OFF (set before BEGIN; the runner does this)`,
      );
    }
  }
  const { renames, rest } = splitBatchRenames(op.operations);
  await inSavepoint(executor, async () => {
    // SQLite's own RENAME COLUMN rewrites indexes, triggers and views that use the column.
    for (const rename of renames) await runRendered(renderSqliteOperation(rename), executor);
    const table = await readSqliteTable(executor, op.table);
    for (const child of rest) {
      if (child.kind === "createIndex" || child.kind === "dropIndex") {
        for (const comment of renderSqliteOperation(child).comments) executor.comment(comment);
      }
    }
    const plan = planTableRebuild(table, rest);
    for (const statement of plan.statements) await executor.run(statement);
    await verifyRecreated(executor, table.name, plan);
    // The runner checks what the migration touched before commit; check here only without it,
    // or outside a transaction, where releasing the savepoint commits the batch.
    if (!executor.checksForeignKeys) await checkSqliteForeignKeys(executor, table.name);
    else if (!executor.inTransaction && executor.addedForeignKeyViolations) {
      const added = await executor.addedForeignKeyViolations();
      if (added.length > 0) throw new ForeignKeyViolationError(table.name, [], added);
    }
  });
}

/** The savepoint a batch runs in (batches do not nest, so one name serves). */
const BATCH_SAVEPOINT = "strata_batch";

/** Executors that remember the statement being run, to name it when the migration fails. */
interface RemembersStatement {
  current: unknown;
}

/**
 * Run a batch's statements so that they apply completely or not at all, inside the migration's
 * transaction or, in a non-transactional migration, on their own: a rebuild stopped half way
 * would leave views and triggers dropped and the temporary table behind. The statements go
 * through the executor, so a dry run prints the savepoint as the real run sends it.
 */
async function inSavepoint(executor: Executor, body: () => Promise<void>): Promise<void> {
  await executor.run(`SAVEPOINT ${BATCH_SAVEPOINT}`);
  try {
    await body();
  } catch (error) {
    // The failure is reported against the statement that failed, not against the rollback.
    const failed = (executor as Partial<RemembersStatement>).current;
    // An error that ended the transaction took the savepoint with it: nothing left to undo.
    await executor.run(`ROLLBACK TO ${BATCH_SAVEPOINT}`).catch(() => {});
    await executor.run(`RELEASE ${BATCH_SAVEPOINT}`).catch(() => {});
    if ("current" in executor) (executor as RemembersStatement).current = failed;
    throw error;
  }
  await executor.run(`RELEASE ${BATCH_SAVEPOINT}`);
}

/**
 * Check that the views and triggers a rebuild created again still work when the batch dropped
 * columns: SQLite creates them without resolving their columns, so one that used a dropped
 * column would be left broken (SQLite's own DROP COLUMN refuses instead, and so does this).
 * `EXPLAIN` compiles a statement without running it; compiling a write compiles the triggers
 * it fires.
 */
async function verifyRecreated(executor: Executor, table: string, plan: RebuildPlan) {
  if (plan.droppedColumns.length === 0) return;
  const probe = async (what: string, statement: string) => {
    try {
      await executor.query(`EXPLAIN ${statement}`);
    } catch (error) {
      throw brokenByDrop(table, plan.droppedColumns, what, error);
    }
  };
  for (const view of plan.views) {
    await probe(`view ${view.name}`, `SELECT * FROM ${quoteIdent(view.name)}`);
  }
  for (const trigger of plan.triggers) {
    // `UPDATE OF` a dropped column can no longer fire, so compiling cannot reach its body.
    const column = sameIdentifier(trigger.table, table)
      ? rowReference(trigger.sql, plan.droppedColumns)
      : undefined;
    if (column !== undefined) {
      throw brokenByDrop(
        table,
        plan.droppedColumns,
        `trigger ${trigger.name}`,
        `no such column: ${column}`,
      );
    }
    const statement = await firingStatement(executor, trigger);
    if (statement) await probe(`trigger ${trigger.name}`, statement);
  }
}

/** The first of `columns` that SQL names as `NEW.column` or `OLD.column`, if any. */
function rowReference(sql: string, columns: readonly string[]): string | undefined {
  const tokens = tokenize(sql).filter(isSignificant);
  for (let i = 2; i < tokens.length; i++) {
    const row = identifierOf(tokens[i - 2])?.toUpperCase();
    if ((row !== "NEW" && row !== "OLD") || tokens[i - 1].text !== ".") continue;
    const name = identifierOf(tokens[i]);
    const column = name === undefined ? undefined : columns.find((c) => sameIdentifier(c, name));
    if (column !== undefined) return column;
  }
  return undefined;
}

const FIRING_EVENTS = new Set(["DELETE", "INSERT", "UPDATE"]);

/** A statement on a trigger's table (or view) that fires the trigger, or undefined if unknown. */
async function firingStatement(
  executor: Executor,
  trigger: SqliteSchemaObject,
): Promise<string | undefined> {
  const target = quoteIdent(trigger.table);
  // The first of these words: a quoted trigger name is a quoted token, not a word.
  const event = tokenize(trigger.sql).map((token) => token.kind === "word" ? token.text : "")
    .map((word) => word.toUpperCase()).find((word) => FIRING_EVENTS.has(word));
  switch (event) {
    case "DELETE":
      return `DELETE FROM ${target}`;
    case "INSERT":
      return `INSERT INTO ${target} DEFAULT VALUES`;
    case "UPDATE": {
      // Every column, so that an `UPDATE OF` trigger fires too (generated ones cannot be set).
      const columns = await executor.query<{ name: string }>(
        "SELECT name FROM pragma_table_xinfo($1) WHERE hidden = 0",
        [trigger.table],
      );
      if (columns.length === 0) return undefined;
      const sets = columns.map(({ name }) => `${quoteIdent(name)} = ${quoteIdent(name)}`);
      return `UPDATE ${target} SET ${sets.join(", ")}`;
    }
  }
  return undefined;
}

/** The error for a view or trigger a dropped column broke, naming the column when SQLite did. */
function brokenByDrop(
  table: string,
  dropped: readonly string[],
  what: string,
  error: unknown,
): UnsupportedOperationError {
  const reason = error instanceof Error ? error.message : String(error);
  const missing = /no such column: (?:[^\s.]+\.)?([^\s.]+)/i.exec(reason)?.[1];
  const column = missing === undefined
    ? undefined
    : dropped.find((name) => sameIdentifier(name, missing));
  const message = column === undefined
    ? `Cannot drop column(s) ${dropped.map((c) => `${table}.${c}`).join(", ")}: ${what} no ` +
      `longer works after the rebuild (${reason}); change or drop the ${what} first`
    : `Cannot drop column ${table}.${column}: ${what} uses ${table}.${column} (${reason}); ` +
      `change or drop the ${what} first, as SQLite's own DROP COLUMN requires`;
  return new UnsupportedOperationError("dropColumn", "sqlite", message, { cause: error });
}

async function applySqliteOperation(op: Operation, executor: Executor): Promise<void> {
  if (op.kind === "execute") return executor.run(op.sql, op.params);
  if (op.kind === "batch") return applySqliteBatch(op, executor);
  const rendered = renderSqliteOperation(op);
  if (op.kind !== "dropColumn") return runRendered(rendered, executor);
  try {
    await runRendered(rendered, executor);
  } catch (error) {
    // SQLite refuses to drop a column that an index, a constraint, a view or a trigger uses;
    // a rebuild can (dropping the indexes and constraints with it, as PostgreSQL does).
    throw new UnsupportedOperationError(
      op.kind,
      "sqlite",
      `Cannot drop column ${op.table}.${op.column}: SQLite's ALTER TABLE refused ` +
        `(${error instanceof Error ? error.message : String(error)}); use ` +
        `op.batchAlterTable("${op.table}", (b) => b.dropColumn("${op.column}")) to rebuild ` +
        `the table without it`,
      { cause: error },
    );
  }
}

/** The SQLite dialect. */
export const sqliteDialect: Dialect = Object.freeze({
  name: "sqlite",
  capabilities: Object.freeze({
    transactionalDdl: true,
    advisoryLocks: false,
    nativeEnums: false,
    foreignKeyCheckPerMigration: true,
    rebuildsTables: true,
  }),
  quoteIdent,
  quoteLiteral,
  beginStatement: "BEGIN IMMEDIATE",
  createVersionTable: renderCreateVersionTable,
  renderType: renderSqliteType,
  renderOperation: renderSqliteOperation,
  applyOperation: applySqliteOperation,
});
