/**
 * Errors raised by operations: the conditions a migration author or the runner may catch.
 *
 * Each carries structured fields beside a message in the `Cannot <action>: <state>` form that
 * names the table or column and, where there is one, the remedy.
 *
 * @module
 */

import type { DialectName } from "../revision/revision.ts";

/** An operation this dialect cannot perform here (outside a batch, inside a transaction...). */
export class UnsupportedOperationError extends Error {
  /** The operation's `kind`. */
  readonly operation: string;
  /** The dialect that refused it. */
  readonly dialect: DialectName;
  constructor(
    operation: string,
    dialect: DialectName,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "UnsupportedOperationError";
    this.operation = operation;
    this.dialect = dialect;
  }
}

/** An operation whose reverse cannot be derived from what is known. */
export class IrreversibleOperationError extends Error {
  /** The operation's `kind`. */
  readonly operation: string;
  /** What would be needed to reverse it (e.g. `the definition of column flow.labels`). */
  readonly missing: string;
  constructor(operation: string, missing: string, message: string) {
    super(message);
    this.name = "IrreversibleOperationError";
    this.operation = operation;
    this.missing = missing;
  }
}

/** One row `PRAGMA foreign_key_check` reported. */
export interface ForeignKeyViolation {
  /** The child table holding the row. */
  readonly table: string;
  /** The row's rowid (null for a WITHOUT ROWID table). */
  readonly rowid: number | null;
  /** The parent table the row should reference. */
  readonly parent: string;
  /** Index of the foreign key in `PRAGMA foreign_key_list(table)`. */
  readonly fkid: number;
}

/** A table rebuild left rows that violate foreign keys; the migration must be rolled back. */
export class ForeignKeyViolationError extends Error {
  /** The table that was rebuilt. */
  readonly table: string;
  readonly violations: readonly ForeignKeyViolation[];
  /**
   * `described`: the violations as the runner's foreign-key tracker words them (the ones a
   * migration added, old ones left out), when they come from it rather than from a full check.
   */
  constructor(
    table: string,
    violations: readonly ForeignKeyViolation[],
    described?: readonly string[],
  ) {
    const all = described ??
      violations.map((v) => `${v.table} rowid ${v.rowid ?? "?"} -> ${v.parent}`);
    const shown = all.slice(0, 10);
    const more = all.length > shown.length ? `, and ${all.length - shown.length} more` : "";
    super(
      `Cannot rebuild table ${table}: ${all.length} row(s) violate foreign keys ` +
        `(${
          shown.join(", ")
        }${more}); fix the rows or the constraint, then run the migration again`,
    );
    this.name = "ForeignKeyViolationError";
    this.table = table;
    this.violations = violations;
  }
}
