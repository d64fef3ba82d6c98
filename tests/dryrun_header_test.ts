/** The `--sql` script's header lines name each revision's parents, as Alembic's do. */

import assert from "node:assert/strict";
import * as path from "node:path";
import { upgrade } from "../lib/migrate.ts";
import { sqlMigration } from "./support/databases.ts";
import { withTempDir, writeFiles } from "./support/tmp.ts";

Deno.test("dry run: a branch's header names its parent, not the version rows it swaps", async () => {
  await withTempDir(async (dir) => {
    const root = path.join(dir, "migrations");
    const chain: [string, string | null][] = [
      ["aaaa00000001", null],
      ["aaaa00000002", "aaaa00000001"],
      ["bbbb00000003", "aaaa00000002"],
      ["cccc00000003", "aaaa00000002"],
    ];
    writeFiles(
      path.join(root, "sqlite"),
      Object.fromEntries(chain.map(([id, parent], i) => [
        `2026_01_01_00000${i}_${id}_m.sql`,
        sqlMigration(id, parent, `CREATE TABLE t_${id} (id INTEGER);`),
      ])),
    );
    const printed: string[] = [];
    await upgrade("heads", {
      url: `sqlite:${path.join(dir, "app.db")}`,
      dir: root,
      sql: true,
      onEvent: (e) => {
        if (e.type === "sql") printed.push(e.text);
      },
    });
    const headers = printed.filter((line) => line.startsWith("-- Running"))
      .map((line) => line.replace(/ \(.*\)$/, ""));
    // The two branches in either order.
    assert.deepEqual(
      headers.sort(),
      [
        "-- Running upgrade base -> aaaa00000001",
        "-- Running upgrade aaaa00000001 -> aaaa00000002",
        "-- Running upgrade aaaa00000002 -> bbbb00000003",
        "-- Running upgrade aaaa00000002 -> cccc00000003",
      ].sort(),
    );
  });
});
