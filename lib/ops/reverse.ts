/**
 * Reversing operations, for writing downgrades and for autogenerate.
 *
 * An operation knows its reverse when the operation itself says everything (a rename, a
 * created table); otherwise the reverse needs the state before it (a dropped column's
 * definition), passed as {@link PriorState}. Without it the answer is an
 * `IrreversibleOperationError` that names exactly what is missing.
 *
 * @module
 */

import type {
  AlterColumnChanges,
  CreateTableOptions,
  IndexColumn,
  IndexOptions,
  Operation,
} from "./operations.ts";
import type { ColumnDef } from "./types.ts";
import { IrreversibleOperationError } from "./errors.ts";
import { operation } from "./build.ts";

/** What was there before an operation, as far as reversing it needs. */
export interface PriorState {
  /** The definition of a table before `dropTable`. */
  readonly table?: {
    readonly columns: readonly ColumnDef[];
    readonly options?: CreateTableOptions;
  };
  /** Column definitions before `dropColumn` or `alterColumn`, by column name. */
  readonly columns?: Readonly<Record<string, ColumnDef>>;
  /** Index definitions before `dropIndex`, by index name. */
  readonly indexes?: Readonly<
    Record<string, {
      readonly table: string;
      readonly columns: readonly IndexColumn[];
      readonly options?: IndexOptions;
    }>
  >;
  /** The operation that created a constraint, before `dropConstraint`, by constraint name. */
  readonly constraints?: Readonly<Record<string, Operation>>;
  /** Enum values before `dropEnum`, by enum name. */
  readonly enums?: Readonly<Record<string, readonly string[]>>;
}

function missing(op: Operation, what: string, why: string): never {
  throw new IrreversibleOperationError(op.kind, what, `Cannot reverse ${op.kind}: ${why}`);
}

function priorColumn(prior: PriorState | undefined, name: string): ColumnDef | undefined {
  return prior?.columns?.[name] ?? prior?.table?.columns.find((column) => column.name === name);
}

/**
 * The operation that undoes `op`, or `IrreversibleOperationError` naming what is missing.
 *
 * @example
 * ```ts
 * import { reverseOperation } from "./reverse.ts";
 * reverseOperation({ kind: "renameTable", from: "flow", to: "flows" });
 * // { kind: "renameTable", from: "flows", to: "flow" }
 * ```
 */
export function reverseOperation(op: Operation, prior?: PriorState): Operation {
  switch (op.kind) {
    case "createTable":
      return operation.dropTable(op.table);
    case "dropTable": {
      if (!prior?.table) {
        return missing(
          op,
          `the definition of table ${op.table}`,
          `the definition of table ${op.table} is unknown; pass it as prior.table`,
        );
      }
      return operation.createTable(op.table, prior.table.columns, prior.table.options ?? {});
    }
    case "renameTable":
      return operation.renameTable(op.to, op.from);
    case "addColumn":
      return operation.dropColumn(op.table, op.column.name);
    case "dropColumn": {
      const column = priorColumn(prior, op.column);
      if (!column) {
        return missing(
          op,
          `the definition of column ${op.table}.${op.column}`,
          `the definition of column ${op.table}.${op.column} is unknown; pass it as ` +
            `prior.columns["${op.column}"]`,
        );
      }
      return operation.addColumn(op.table, column);
    }
    case "alterColumn": {
      const c = op.changes;
      const current = c.newName ?? op.column;
      const changes: { -readonly [K in keyof AlterColumnChanges]: AlterColumnChanges[K] } = {};
      if (c.newName !== undefined) changes.newName = op.column;
      if (c.type !== undefined || c.nullable !== undefined || c.default !== undefined) {
        const before = priorColumn(prior, op.column);
        if (!before) {
          const changed = (["type", "nullable", "default"] as const).filter((key) =>
            c[key] !== undefined
          );
          return missing(
            op,
            `the previous ${changed.join(", ")} of column ${op.table}.${op.column}`,
            `the previous ${changed.join(", ")} of column ${op.table}.${op.column} is unknown; ` +
              `pass its definition as prior.columns["${op.column}"]`,
          );
        }
        if (c.type !== undefined) changes.type = before.type;
        if (c.nullable !== undefined) changes.nullable = before.nullable ?? true;
        if (c.default !== undefined) changes.default = before.default ?? null;
      }
      return operation.alterColumn(op.table, current, changes);
    }
    case "createPrimaryKey":
      if (!op.name) {
        return missing(
          op,
          `the name of the primary key of ${op.table}`,
          `the primary key of ${op.table} has no name to drop it by; give it one`,
        );
      }
      return operation.dropConstraint(op.table, op.name);
    case "createUnique":
    case "createCheck":
    case "createForeignKey":
      if (!op.constraint.name) {
        return missing(
          op,
          `the name of the constraint on ${op.table}`,
          `the constraint on ${op.table} has no name to drop it by; give it one`,
        );
      }
      return operation.dropConstraint(op.table, op.constraint.name);
    case "dropConstraint": {
      const created = prior?.constraints?.[op.name];
      if (!created) {
        return missing(
          op,
          `the definition of constraint ${op.name} on ${op.table}`,
          `the definition of constraint ${op.name} on ${op.table} is unknown; pass the ` +
            `operation that created it as prior.constraints["${op.name}"]`,
        );
      }
      return created;
    }
    case "createIndex":
      return operation.dropIndex(op.name, {
        table: op.table,
        ...(op.options.concurrently ? { concurrently: true } : {}),
      });
    case "dropIndex": {
      const index = prior?.indexes?.[op.name];
      if (!index) {
        return missing(
          op,
          `the definition of index ${op.name}`,
          `the definition of index ${op.name} is unknown; pass it as prior.indexes["${op.name}"]`,
        );
      }
      return operation.createIndex(op.name, index.table, index.columns, {
        ...index.options,
        ...(op.concurrently ? { concurrently: true } : {}),
      });
    }
    case "createEnum":
      return operation.dropEnum(op.name);
    case "dropEnum": {
      const values = prior?.enums?.[op.name];
      if (!values) {
        return missing(
          op,
          `the values of enum ${op.name}`,
          `the values of enum ${op.name} are unknown; pass them as prior.enums["${op.name}"]`,
        );
      }
      return operation.createEnum(op.name, values);
    }
    case "addEnumValue":
      return missing(
        op,
        `a way to remove value '${op.value}' from enum ${op.name}`,
        `PostgreSQL cannot remove value '${op.value}' from enum ${op.name}; recreate the type ` +
          `in the downgrade instead`,
      );
    case "execute":
      return missing(
        op,
        "the reverse SQL",
        "raw SQL has no known reverse; write the downgrade SQL",
      );
    case "bulkInsert":
      return missing(
        op,
        `a way to identify the rows inserted into ${op.table}`,
        `rows inserted into ${op.table} cannot be told apart from others; write a DELETE`,
      );
    case "batch":
      return operation.batch(
        op.table,
        [...op.operations].reverse().map((child) => reverseOperation(child, prior)),
      );
  }
}
