/**
 * Indexes for the scheduler's hot queries: "the next scheduled runs" touch only rows in the
 * `SCHEDULED` state, a small fraction of all runs, so the indexes are partial.
 *
 * The flow run index also carries `deployment_id` and `work_queue_id` as `INCLUDE` columns on
 * PostgreSQL, so the scheduler's query is answered from the index alone; SQLite has no
 * `INCLUDE` and the op layer skips it there, with a comment in `--sql` output.
 */
import type { MigrationContext } from "../../lib/ops/operations.ts";

export const revision = "6dec60932b92";
export const downRevision: string | null = "f4d1310d258b";
export const message = "Add partial indexes for scheduled runs";

export async function upgrade({ op }: MigrationContext) {
  await op.createIndex(
    "ix_flow_run__scheduled_next_start",
    "flow_run",
    ["next_scheduled_start_time"],
    { where: "state_type = 'SCHEDULED'", include: ["deployment_id", "work_queue_id"] },
  );
  await op.createIndex(
    "ix_task_run__scheduled_expected_start",
    "task_run",
    ["expected_start_time"],
    { where: "state_type = 'SCHEDULED'" },
  );
  await op.createIndex(
    "ix_flow_run__deployment_id_expected_start",
    "flow_run",
    ["deployment_id", "expected_start_time"],
    { where: "state_type = 'SCHEDULED'" },
  );
}

export async function downgrade({ op }: MigrationContext) {
  await op.dropIndex("ix_flow_run__deployment_id_expected_start", { table: "flow_run" });
  await op.dropIndex("ix_task_run__scheduled_expected_start", { table: "task_run" });
  await op.dropIndex("ix_flow_run__scheduled_next_start", { table: "flow_run" });
}
