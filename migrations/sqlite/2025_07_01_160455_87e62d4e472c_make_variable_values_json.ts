/**
 * `variable.value` becomes JSON, so a variable can hold a number, a list or an object.
 *
 * Existing values are strings and stay strings: each becomes a JSON string (`abc` →
 * `"abc"`). Downgrading turns JSON strings back into their text and writes any other JSON
 * value as its JSON text; a value longer than 5,000 characters cannot go back and stops the
 * downgrade. SQLite does not enforce the length of VARCHAR(5000); the rebuild converts values as it copies them.
 */
import type { MigrationContext } from "../../lib/ops/operations.ts";

export const revision = "87e62d4e472c";
export const downRevision: string | null = "07b6c9037fe9";
export const message = "Make variable values JSON";

/** Text to a JSON string; NULL stays NULL (json_quote would make it the JSON `null`). */
const TO_JSON = "CASE WHEN value IS NULL THEN NULL ELSE json_quote(value) END";
/** A JSON string to its text; other JSON values keep their JSON text. */
const FROM_JSON =
  "CASE WHEN json_type(value) = 'text' THEN json_extract(value, '$') ELSE value END";

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
