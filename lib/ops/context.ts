/**
 * The migration context: what a TypeScript migration's `upgrade`/`downgrade` receives.
 *
 * `op` methods build an {@link Operation} and hand it to the executor's dialect, which reads
 * what it needs from the database, runs the statements in order and checks the result. `sql`
 * sends queries straight to the executor. Nothing here knows which dialect it is talking to.
 *
 * @module
 */

import type {
  BatchOperations,
  MigrationContext,
  Operation,
  Operations,
  SqlHelper,
} from "./operations.ts";
import type { Executor, Row } from "./executor.ts";
import { createTypeBuilder, operation } from "./build.ts";
import { getDialect } from "../dialect/dialect.ts";

/**
 * The `op`, `t` and `sql` a migration receives, sending everything to `executor`.
 *
 * @example
 * ```ts ignore
 * const context = createMigrationContext(executor, "5952a5498b51");
 * await context.op.addColumn("flow", { name: "labels", type: context.t.json() });
 * ```
 */
export function createMigrationContext(
  executor: Executor,
  revision: string,
  options: {
    /** Sees every promise handed to the migration (the runner counts unfinished ones). */
    track?: <T>(promise: Promise<T>) => Promise<T>;
  } = {},
): MigrationContext {
  const dialect = getDialect(executor.dialect);
  const track = options.track ?? (<T>(promise: Promise<T>) => promise);
  const apply = (op: Operation) => track(dialect.applyOperation(op, executor));
  const op: Operations = {
    createTable: (table, columns, options) => apply(operation.createTable(table, columns, options)),
    dropTable: (table, options) => apply(operation.dropTable(table, options)),
    renameTable: (from, to) => apply(operation.renameTable(from, to)),
    addColumn: (table, column) => apply(operation.addColumn(table, column)),
    dropColumn: (table, column) => apply(operation.dropColumn(table, column)),
    alterColumn: (table, column, changes) => apply(operation.alterColumn(table, column, changes)),
    createPrimaryKey: (table, columns, name) =>
      apply(operation.createPrimaryKey(table, columns, name)),
    createUnique: (table, constraint) => apply(operation.createUnique(table, constraint)),
    createCheck: (table, constraint) => apply(operation.createCheck(table, constraint)),
    createForeignKey: (table, constraint) => apply(operation.createForeignKey(table, constraint)),
    dropConstraint: (table, name) => apply(operation.dropConstraint(table, name)),
    createIndex: (name, table, columns, options) =>
      apply(operation.createIndex(name, table, columns, options)),
    dropIndex: (name, options) => apply(operation.dropIndex(name, options)),
    createEnum: (name, values) => apply(operation.createEnum(name, values)),
    dropEnum: (name, options) => apply(operation.dropEnum(name, options)),
    addEnumValue: (name, value, options) => apply(operation.addEnumValue(name, value, options)),
    execute: (sql, params) => apply(operation.execute(sql, params)),
    bulkInsert: (table, rows) => apply(operation.bulkInsert(table, rows)),
    batchAlterTable: (table, build) => apply(collectBatch(table, build)),
  };
  return Object.freeze({
    op: Object.freeze(op),
    t: createTypeBuilder(),
    sql: createSqlHelper(executor, track),
    dialect: executor.dialect,
    revision,
    dryRun: executor.dryRun,
  });
}

/** Run a `batchAlterTable` callback and gather what it asked for into one `batch` operation. */
export function collectBatch(table: string, build: (batch: BatchOperations) => void): Operation {
  const collected: Operation[] = [];
  const add = (op: Operation) => void collected.push(op);
  const batch: BatchOperations = {
    addColumn: (column) => add(operation.addColumn(table, column)),
    dropColumn: (column) => add(operation.dropColumn(table, column)),
    alterColumn: (column, changes) => add(operation.alterColumn(table, column, changes)),
    createPrimaryKey: (columns, name) => add(operation.createPrimaryKey(table, columns, name)),
    createUnique: (constraint) => add(operation.createUnique(table, constraint)),
    createCheck: (constraint) => add(operation.createCheck(table, constraint)),
    createForeignKey: (constraint) => add(operation.createForeignKey(table, constraint)),
    dropConstraint: (name) => add(operation.dropConstraint(table, name)),
    createIndex: (name, columns, options) =>
      add(operation.createIndex(name, table, columns, options)),
    dropIndex: (name) => add(operation.dropIndex(name, { table })),
  };
  const result: unknown = build(batch);
  if (result instanceof Promise) {
    throw new TypeError(
      `Cannot collect batchAlterTable("${table}"): its callback returned a promise; it must ` +
        `only call the batch's methods (synchronously), then the table is changed once`,
    );
  }
  return operation.batch(table, collected);
}

/**
 * The `sql` helper: a tagged template whose values become `$1`, `$2`, ... parameters, and
 * `sql.unsafe(text, params)` for text that already has them.
 *
 * @example
 * ```ts ignore
 * const rows = await sql`SELECT id FROM flow WHERE name = ${name}`;
 * ```
 */
export function createSqlHelper(
  executor: Executor,
  track: <T>(promise: Promise<T>) => Promise<T> = (promise) => promise,
): SqlHelper {
  const tagged = <T extends Row = Row>(strings: TemplateStringsArray, ...values: unknown[]) => {
    let text = strings[0];
    for (let i = 1; i < strings.length; i++) text += `$${i}${strings[i]}`;
    return track(executor.query<T>(text, values));
  };
  const unsafe = <T extends Row = Row>(text: string, params?: readonly unknown[]) =>
    track(executor.query<T>(text, params ?? []));
  return Object.assign(tagged, { unsafe }) as SqlHelper;
}
