/**
 * A new state type, `CANCELLING` (a cancellation requested but not yet done).
 *
 * PostgreSQL adds the value to the native enum in place (inside the transaction: allowed since
 * PostgreSQL 12, as long as this migration does not use the new value). PostgreSQL cannot
 * remove an enum value, so downgrading maps `CANCELLING` to `CANCELLED` (the state a
 * cancellation ends in), builds the old type under the old name, moves the four columns onto
 * it and drops the new one: lossy, and said so.
 */
import type { MigrationContext } from "../../lib/ops/operations.ts";

export const revision = "506e73bd27d8";
export const downRevision: string | null = "56a86d363d10";
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

/** Every column typed `state_type`, by table. */
const STATE_COLUMNS: [string, string][] = [
  ["flow_run", "state_type"],
  ["flow_run_state", "type"],
  ["task_run", "state_type"],
  ["task_run_state", "type"],
];

export async function upgrade({ op }: MigrationContext) {
  await op.addEnumValue("state_type", "CANCELLING", { after: "CANCELLED", ifNotExists: true });
}

export async function downgrade({ op, t }: MigrationContext) {
  for (const [table, column] of STATE_COLUMNS) {
    await op.execute(`UPDATE ${table} SET ${column} = 'CANCELLED' WHERE ${column} = 'CANCELLING'`);
  }
  await op.execute("ALTER TYPE state_type RENAME TO state_type_with_cancelling");
  await op.createEnum("state_type", OLD_VALUES);
  for (const [table, column] of STATE_COLUMNS) {
    await op.alterColumn(table, column, {
      type: t.enum("state_type", OLD_VALUES),
      using: `${column}::text::state_type`,
    });
  }
  await op.dropEnum("state_type_with_cancelling");
}
