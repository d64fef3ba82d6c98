/**
 * Targets and migration headers that must be refused before anything runs: an empty target (an
 * unset shell variable), the suggestion for `-1` with several heads, a `.sql` file without its
 * `-- down_revision:` header and a `.ts` revision ID the target syntax cannot name.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { runCli, runtimeTest } from "./support/runtimes.ts";
import { linearChain, revisionId, sqlMigration } from "./support/databases.ts";
import { withTempDir, writeFiles } from "./support/tmp.ts";
import { stamp } from "../lib/migrate.ts";

function tables(file: string): string[] {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return (db.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    ).all() as { name: string }[]).map((row) => row.name);
  } finally {
    db.close();
  }
}

function versions(file: string): string[] {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return (db.prepare("SELECT version_num FROM alembic_version ORDER BY version_num")
      .all() as { version_num: string }[]).map((row) => row.version_num);
  } finally {
    db.close();
  }
}

const hash = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

runtimeTest("an empty target is exit 2 and changes nothing", async (runtime) => {
  await withTempDir(async (dir) => {
    const migrations = path.join(dir, "migrations");
    writeFiles(path.join(migrations, "sqlite"), linearChain(3));
    writeFiles(path.join(migrations, "postgresql"), linearChain(3));
    const file = path.join(dir, "app.db");
    const base = ["--url", `sqlite:${file}`, "--dir", migrations];
    const up = await runCli(runtime, [...base, "-q", "upgrade"]);
    assert.equal(up.code, 0, up.stderr);
    const before = hash(file);
    for (
      const args of [["downgrade", ""], ["stamp", ""], ["upgrade", ""], ["downgrade", " "], [
        "stamp",
        "--purge",
        "",
      ]]
    ) {
      const result = await runCli(runtime, [...base, ...args]);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stdout}${result.stderr}`);
      assert.match(
        result.stderr,
        /error: Cannot resolve ' ?': the target is empty; name a revision, head, heads or base/,
        args.join(" "),
      );
      assert.equal(hash(file), before, args.join(" "));
    }
    assert.deepEqual(versions(file), [revisionId(3)]);
    // `--json` carries the same failure.
    const json = await runCli(runtime, [...base, "--json", "downgrade", ""]);
    assert.equal(json.code, 2);
    const document = JSON.parse(json.stdout);
    assert.equal(document.ok, false);
    assert.match(document.error, /the target is empty/);
    // A range's empty lower side is still base.
    const history = await runCli(runtime, [
      "--dir",
      migrations,
      "history",
      "-r",
      `:${revisionId(2)}`,
    ]);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, new RegExp(revisionId(1)));
    assert.doesNotMatch(history.stdout, new RegExp(revisionId(3)));
  });
});

runtimeTest(
  "with several heads, the target `downgrade` suggests unapplies one branch's head",
  async (runtime) => {
    await withTempDir(async (dir) => {
      const migrations = path.join(dir, "migrations");
      const files = linearChain(2);
      for (const id of ["bbbb00000003", "cccc00000003"]) {
        files[`2026_01_03_000000_${id}_b.sql`] = sqlMigration(
          id,
          revisionId(2),
          `CREATE TABLE t_${id} (a INT);`,
          `DROP TABLE t_${id};`,
        );
      }
      writeFiles(path.join(migrations, "sqlite"), files);
      const file = path.join(dir, "app.db");
      const base = ["--url", `sqlite:${file}`, "--dir", migrations];
      const up = await runCli(runtime, [...base, "-q", "upgrade", "heads"]);
      assert.equal(up.code, 0, up.stderr);
      const before = hash(file);
      const refused = await runCli(runtime, [...base, "downgrade"]);
      assert.equal(refused.code, 2, refused.stdout + refused.stderr);
      assert.equal(hash(file), before);
      const suggestion = /e\.g\. '([^']+)'/.exec(refused.stderr)?.[1];
      assert.equal(suggestion, "bbbb00000003@-1", refused.stderr);
      const down = await runCli(runtime, [...base, "--json", "downgrade", suggestion!]);
      assert.equal(down.code, 0, down.stderr);
      const result = JSON.parse(down.stdout);
      assert.deepEqual(
        result.steps.map((s: { revision: string }) => s.revision),
        ["bbbb00000003"],
      );
      assert.deepEqual(versions(file), ["cccc00000003"]);
      const left = tables(file);
      assert.ok(left.includes("t_cccc00000003"), left.join(", "));
      assert.ok(!left.includes("t_bbbb00000003"), left.join(", "));
    });
  },
);

runtimeTest(
  "a .sql migration without '-- down_revision:' is exit 2 naming the file, not a second base",
  async (runtime) => {
    await withTempDir(async (dir) => {
      const migrations = path.join(dir, "migrations");
      const name = "2026_01_04_000000_bbbb00000004_m.sql";
      writeFiles(path.join(migrations, "sqlite"), {
        ...linearChain(3),
        [name]: "-- revision: bbbb00000004\n-- migrate:up\nCREATE TABLE orphan (a INT);\n",
      });
      const file = path.join(dir, "app.db");
      const base = ["--url", `sqlite:${file}`, "--dir", migrations];
      for (const args of [["upgrade", "heads"], ["heads"]]) {
        const result = await runCli(runtime, [...base, ...args]);
        assert.equal(result.code, 2, `${args.join(" ")}: ${result.stdout}${result.stderr}`);
        assert.match(
          result.stderr,
          new RegExp(
            `error: Cannot load .*${name}: missing header '-- down_revision: <id>' .*use 'none'`,
          ),
        );
      }
      if (fs.existsSync(file)) assert.ok(!tables(file).includes("orphan"));
    });
  },
);

runtimeTest("a .ts revision ID with characters targets cannot name is exit 2", async (runtime) => {
  await withTempDir(async (dir) => {
    const migrations = path.join(dir, "migrations");
    const name = "2026_01_04_000000_abc1234_m.ts";
    writeFiles(path.join(migrations, "sqlite"), {
      ...linearChain(1),
      [name]: `export const revision = "ab-c1234";\nexport const downRevision = "${
        revisionId(1)
      }";\nexport async function upgrade() {}\n`,
    });
    const result = await runCli(runtime, ["--dir", migrations, "heads"]);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`error: Cannot load .*${name}: revision 'ab-c1234' must be letters, digits`),
    );
  });
});

Deno.test("stamp --sql with a bad target prints no statement", async () => {
  await withTempDir(async (dir) => {
    const root = path.join(dir, "migrations");
    writeFiles(path.join(root, "sqlite"), linearChain(2));
    const printed: string[] = [];
    await assert.rejects(
      stamp("zzzz", {
        url: `sqlite:${path.join(dir, "none.db")}`,
        dir: root,
        sql: true,
        onEvent: (e) => {
          if (e.type === "sql") printed.push(e.text);
        },
      }),
      /zzzz/,
    );
    assert.deepEqual(printed.filter((line) => !line.startsWith("--")), []);
  });
});
