/**
 * `variable.value` becomes JSON, so a variable can hold a number, a list or an object.
 *
 * Existing values are strings and stay strings: each becomes a JSON string (`abc` →
 * `"abc"`). Downgrading turns JSON strings back into their text and writes any other JSON
 * value as its JSON text; a value longer than 5,000 characters cannot go back and stops the
 * downgrade. PostgreSQL enforces the 5,000 characters in the `USING` conversion.
 */
import type { MigrationContext } from "../../lib/ops/operations.ts";

export const revision = "56a86d363d10";
export const downRevision: string | null = "8036e6016703";
export const message = "Make variable values JSON";

/** Text to a JSON string (`to_jsonb` of NULL is NULL). */
const TO_JSON = "to_jsonb(value)";
/** A JSON string to its text; other JSON values to their JSON text (`#>> '{}'`). */
const FROM_JSON = "value #>> '{}'";

export async function upgrade({ op, t }: MigrationContext) {
  await op.batchAlterTable(
    "variable",
    (b) => b.alterColumn("value", { type: t.jsonb(), using: TO_JSON }),
  );
}

export async function downgrade({ op, t }: MigrationContext) {
  await op.batchAlterTable(
    "variable",
    (b) => b.alterColumn("value", { type: t.varchar(5000), using: FROM_JSON }),
  );
}
