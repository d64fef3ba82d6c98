/**
 * The foreign key from `flow_run.parent_task_run_id` to `task_run`, which the initial schema
 * could not declare (`task_run` was created after `flow_run`).
 *
 * Subflow runs whose parent task run no longer exists are detached first (the key would
 * refuse them). PostgreSQL adds the constraint with `ALTER TABLE`; SQLite cannot add a
 * constraint to an existing table, so the batch rebuilds `flow_run`, whose child rows
 * (states, task runs) stay in place: foreign keys are checked after the rebuild.
 */
import type { MigrationContext } from "../../lib/ops/operations.ts";

export const revision = "04892306113c";
export const downRevision: string | null = "a2cecda548cd";
export const message = "Add flow_run.parent_task_run_id foreign key";

const FK = "fk_flow_run__parent_task_run_id__task_run";

export async function upgrade({ op }: MigrationContext) {
  await op.execute(
    `UPDATE flow_run SET parent_task_run_id = NULL
      WHERE parent_task_run_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM task_run WHERE task_run.id = flow_run.parent_task_run_id)`,
  );
  await op.batchAlterTable("flow_run", (b) =>
    b.createForeignKey({
      name: FK,
      columns: ["parent_task_run_id"],
      refTable: "task_run",
      refColumns: ["id"],
      onDelete: "SET NULL",
    }));
}

export async function downgrade({ op }: MigrationContext) {
  await op.batchAlterTable("flow_run", (b) => b.dropConstraint(FK));
}
