/**
 * A new state type, `CANCELLING` (a cancellation requested but not yet done).
 *
 * On SQLite the state type is a `CHECK (... IN (...))` on each column that holds one, so each
 * of the four tables is rebuilt with the new list (flow runs keep their task runs and states;
 * foreign keys are checked after each rebuild). Downgrading maps `CANCELLING` to `CANCELLED`
 * (the state a cancellation ends in) and rebuilds with the old list: lossy, and said so.
 */
import type { MigrationContext } from "../../lib/ops/operations.ts";

export const revision = "8b029591968b";
export const downRevision: string | null = "87e62d4e472c";
export const message = "Add CANCELLING state type";

const OLD_VALUES = [
  "SCHEDULED",
  "PENDING",
  "RUNNING",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "CRASHED",
  "PAUSED",
];
/** In the order PostgreSQL's enum has them (`ADD VALUE ... AFTER 'CANCELLED'`). */
const NEW_VALUES = [...OLD_VALUES.slice(0, 6), "CANCELLING", ...OLD_VALUES.slice(6)];

/** Every column typed `state_type`, by table. */
const STATE_COLUMNS: [string, string][] = [
  ["flow_run", "state_type"],
  ["flow_run_state", "type"],
  ["task_run", "state_type"],
  ["task_run_state", "type"],
];

export async function upgrade({ op, t }: MigrationContext) {
  for (const [table, column] of STATE_COLUMNS) {
    await op.batchAlterTable(
      table,
      (b) => b.alterColumn(column, { type: t.enum("state_type", NEW_VALUES) }),
    );
  }
}

export async function downgrade({ op, t }: MigrationContext) {
  for (const [table, column] of STATE_COLUMNS) {
    await op.execute(`UPDATE ${table} SET ${column} = 'CANCELLED' WHERE ${column} = 'CANCELLING'`);
    await op.batchAlterTable(
      table,
      (b) => b.alterColumn(column, { type: t.enum("state_type", OLD_VALUES) }),
    );
  }
}
