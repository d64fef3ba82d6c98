/**
 * GIN indexes on the JSONB `labels` columns and on `events.related_resource_ids`, built with
 * `CREATE INDEX CONCURRENTLY` so that writes to these (large, busy) tables go on meanwhile.
 *
 * PostgreSQL only: SQLite has no GIN and no JSON index that would help these containment
 * queries (`labels @> '{"env": "prod"}'`). Concurrent builds cannot run in a transaction, so
 * this migration is non-transactional: each statement commits by itself and the version table
 * moves after the last one. A build interrupted half way leaves an INVALID index behind;
 * running the migration again drops it first (the op layer's `concurrently` does) and rebuilds.
 */
import type { MigrationContext } from "../../lib/ops/operations.ts";

export const revision = "55b1f0ff549c";
export const downRevision: string | null = "6dec60932b92";
export const message = "Add GIN indexes on labels, concurrently";
export const transactional = false;

/** [index, table, column]; `jsonb_path_ops`: smaller and faster for `@>`, all we query. */
const INDEXES: [string, string, string][] = [
  ["ix_flow__labels_gin", "flow", "labels"],
  ["ix_deployment__labels_gin", "deployment", "labels"],
  ["ix_flow_run__labels_gin", "flow_run", "labels"],
  ["ix_task_run__labels_gin", "task_run", "labels"],
  ["ix_events__related_resource_ids_gin", "events", "related_resource_ids"],
];

export async function upgrade({ op }: MigrationContext) {
  for (const [name, table, column] of INDEXES) {
    await op.createIndex(name, table, [column], {
      using: "gin",
      opclass: { [column]: "jsonb_path_ops" },
      concurrently: true,
      ifNotExists: true,
    });
  }
}

export async function downgrade({ op }: MigrationContext) {
  for (const [name, table] of [...INDEXES].reverse()) {
    await op.dropIndex(name, { table, concurrently: true, ifExists: true });
  }
}
