/**
 * Every deployment belongs to a work queue: `deployment.work_queue_id` becomes NOT NULL, and
 * deleting a queue that deployments still use is refused (`ON DELETE RESTRICT` instead of
 * `SET NULL`, which a NOT NULL column could not honour).
 *
 * Deployments without a queue are first assigned the default queue of `default-agent-pool`
 * (recreated if it was deleted). On SQLite the batch rebuilds `deployment` once for all three
 * changes, with its child rows (flow runs, versions) in place.
 */
import type { MigrationContext } from "../../lib/ops/operations.ts";

export const revision = "07b6c9037fe9";
export const downRevision: string | null = "266921015cb7";
export const message = "Require a work queue for every deployment";

const FK = "fk_deployment__work_queue_id__work_queue";
const DEFAULT_POOL = "default-agent-pool";
const DEFAULT_QUEUE = "default";

export async function upgrade({ op }: MigrationContext) {
  await op.execute(
    `INSERT INTO work_pool (name, type)
     SELECT CAST($1 AS VARCHAR), 'prefect-agent'
      WHERE NOT EXISTS (SELECT 1 FROM work_pool WHERE name = $1)
        AND EXISTS (SELECT 1 FROM deployment WHERE work_queue_id IS NULL)`,
    [DEFAULT_POOL],
  );
  await op.execute(
    `INSERT INTO work_queue (name, work_pool_id)
     SELECT CAST($2 AS VARCHAR), p.id FROM work_pool p
      WHERE p.name = $1
        AND NOT EXISTS (SELECT 1 FROM work_queue q WHERE q.work_pool_id = p.id AND q.name = $2)
        AND EXISTS (SELECT 1 FROM deployment WHERE work_queue_id IS NULL)`,
    [DEFAULT_POOL, DEFAULT_QUEUE],
  );
  await op.execute(
    `UPDATE deployment SET work_queue_id =
       (SELECT q.id FROM work_queue q JOIN work_pool p ON p.id = q.work_pool_id
         WHERE p.name = $1 AND q.name = $2)
     WHERE work_queue_id IS NULL`,
    [DEFAULT_POOL, DEFAULT_QUEUE],
  );
  await op.batchAlterTable("deployment", (b) => {
    b.dropConstraint(FK);
    b.alterColumn("work_queue_id", { nullable: false });
    b.createForeignKey({
      name: FK,
      columns: ["work_queue_id"],
      refTable: "work_queue",
      refColumns: ["id"],
      onDelete: "RESTRICT",
    });
  });
}

export async function downgrade({ op }: MigrationContext) {
  await op.batchAlterTable("deployment", (b) => {
    b.dropConstraint(FK);
    b.alterColumn("work_queue_id", { nullable: true });
    b.createForeignKey({
      name: FK,
      columns: ["work_queue_id"],
      refTable: "work_queue",
      refColumns: ["id"],
      onDelete: "SET NULL",
    });
  });
}
