/**
 * Bad input at the command line, continued: connection strings that are not URLs, usage errors
 * under `--json`, a `--dir` that does not exist, and databases that cannot be connected to or
 * opened. Each a clear error naming what is wrong, the right exit code, no password printed,
 * and nothing created.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { type CliResult, runCli, runtimeTest } from "./support/runtimes.ts";
import { withTempDir, writeFiles } from "./support/tmp.ts";
import { linearChain } from "./support/databases.ts";
import { databaseUrl, POSTGRES, testServerUrl } from "./support/pg.ts";

function chainDir(dir: string): string {
  writeFiles(path.join(dir, "migrations", "sqlite"), linearChain(2));
  writeFiles(path.join(dir, "migrations", "postgresql"), linearChain(2));
  return path.join(dir, "migrations");
}

/** The `--json` failure document on stdout. */
function failureDocument(result: CliResult): { ok: boolean; exitCode: number; error: string } {
  assert.notEqual(result.stdout.trim(), "", `no document on stdout; stderr: ${result.stderr}`);
  const doc = JSON.parse(result.stdout);
  assert.equal(doc.ok, false);
  assert.equal(doc.exitCode, result.code);
  assert.equal(typeof doc.error, "string");
  return doc;
}

// H4: libpq keyword/value and ADO strings hold passwords outside any URL.
const CONNECTION_STRINGS = [
  "host=db user=app password=hunter22 dbname=app",
  "host=db user=app PASSWORD = 'hunter22 x' dbname=app",
  "Server=db;Database=app;User Id=app;Password=hunter22;",
  "Server=db;Pwd=hunter22;Uid=app",
];

runtimeTest("a key=value connection string is exit 2 and its password is never printed", async (
  runtime,
) => {
  await withTempDir(async (dir) => {
    const migrations = chainDir(dir);
    for (const value of CONNECTION_STRINGS) {
      for (const json of [false, true]) {
        const args = ["--url", value, "--dir", migrations, ...(json ? ["--json"] : []), "current"];
        const result = await runCli(runtime, args);
        assert.equal(result.code, 2, `${value}: ${result.stderr}`);
        assert.match(result.stderr, /error: Cannot use database URL: not a URL but a key=value/);
        assert.doesNotMatch(result.stdout + result.stderr, /hunter22/, value);
        if (json) failureDocument(result);
      }
      const fromEnv = await runCli(runtime, ["--dir", migrations, "upgrade"], {
        env: { DATABASE_URL: value },
      });
      assert.equal(fromEnv.code, 2, fromEnv.stderr);
      assert.doesNotMatch(fromEnv.stdout + fromEnv.stderr, /hunter22/, value);
    }
  });
});

runtimeTest("?password= in a URL is hidden and the message keeps its colon", async (runtime) => {
  await withTempDir(async (dir) => {
    const result = await runCli(runtime, [
      "--url",
      "postgresql://app@127.0.0.1:1/app?password=hunter22",
      "--dir",
      chainDir(dir),
      "current",
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /error: Cannot connect to postgresql:\/\/app@127\.0\.0\.1:1\/app\?password=\*\*\*: \S/,
    );
    assert.doesNotMatch(result.stdout + result.stderr, /hunter22/);
  });
});

// M1: commander's usage errors under --json.
runtimeTest("--json prints the failure document for usage errors too", async (runtime) => {
  await withTempDir(async (dir) => {
    const cases: [string[], RegExp][] = [
      [["frobnicate"], /unknown command 'frobnicate'/],
      [["upgrade", "--bogus"], /unknown option '--bogus'/],
      [["stamp"], /missing required argument 'target'/],
      [["upgrade", "a", "b"], /too many arguments/],
      [["revision"], /required option '-m, --message <message>' not specified/],
      [[], /no command given/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(runtime, ["--json", ...args], { cwd: dir });
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      const doc = failureDocument(result);
      assert.match(doc.error, message);
      assert.doesNotMatch(doc.error, /^error:/);
      if (args.length === 0) continue; // commander shows the help for a missing command
      // The message, not the whole help, on stderr.
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /Usage:/);
    }
    // Without --json, stdout stays empty and the help follows the message.
    const plain = await runCli(runtime, ["frobnicate"], { cwd: dir });
    assert.equal(plain.code, 2);
    assert.equal(plain.stdout, "");
    assert.match(plain.stderr, /unknown command 'frobnicate'[\s\S]*Usage:/);
    // `--json` after `--` is an operand, not the option.
    const operand = await runCli(runtime, ["show", "--", "--json", "x"], { cwd: dir });
    assert.equal(operand.code, 2);
    assert.equal(operand.stdout, "");
  });
});

// M2: a --dir that does not exist is not an empty chain.
runtimeTest("a missing --dir is exit 2 naming it, and creates no database", async (runtime) => {
  await withTempDir(async (dir) => {
    const db = path.join(dir, "app.db");
    const missing = path.join(dir, "migrationz");
    for (
      const args of [
        ["upgrade"],
        ["downgrade", "base"],
        ["stamp", "head"],
        ["current"],
        ["upgrade", "--sql"],
        ["heads"],
        ["history"],
        ["show", "a00000000001"],
      ]
    ) {
      const result = await runCli(runtime, ["--url", `sqlite:${db}`, "--dir", missing, ...args]);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stdout}${result.stderr}`);
      assert.match(
        result.stderr,
        /error: Cannot load .*migrationz\/sqlite: no such directory: the migrations root .*migrationz does not exist/,
        args.join(" "),
      );
      assert.equal(fs.existsSync(db), false, `${args.join(" ")} created the database file`);
    }
    const json = await runCli(runtime, [
      "--json",
      "--url",
      `sqlite:${db}`,
      "--dir",
      missing,
      "upgrade",
    ]);
    assert.match(failureDocument(json).error, /migrationz\/sqlite: no such directory/);
    // check reports it (its exit code is for problems found).
    const check = await runCli(runtime, ["--dir", missing, "check"]);
    assert.notEqual(check.code, 0);
    assert.match(check.stdout + check.stderr, /migrationz\/sqlite: no such directory/);
  });
});

runtimeTest("a root without the dialect's directory is exit 2 naming it", async (runtime) => {
  await withTempDir(async (dir) => {
    const root = path.join(dir, "migrations");
    writeFiles(path.join(root, "postgresql"), linearChain(2));
    const db = path.join(dir, "app.db");
    const result = await runCli(runtime, ["--url", `sqlite:${db}`, "--dir", root, "upgrade"]);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      /error: Cannot load .*migrations\/sqlite: no such directory: the migrations root .*migrations has no sqlite\/ chain/,
    );
    assert.equal(fs.existsSync(db), false);
    // A project may keep one dialect only: commands that read both chains still work.
    for (const args of [["heads"], ["history"], ["--url", "postgresql://h/db", "heads"]]) {
      const heads = await runCli(runtime, ["--dir", root, ...args]);
      assert.equal(heads.code, 0, heads.stderr);
      assert.match(heads.stdout, /a00000000002/);
    }
  });
});

runtimeTest("revision still starts new chains in a new --dir", async (runtime) => {
  await withTempDir(async (dir) => {
    const root = path.join(dir, "fresh", "migrations");
    const result = await runCli(runtime, ["--dir", root, "revision", "-m", "first", "--sql"]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(fs.readdirSync(path.join(root, "sqlite")).length, 1);
    assert.equal(fs.readdirSync(path.join(root, "postgresql")).length, 1);
  });
});

// M3: connecting and opening.
runtimeTest("a PostgreSQL URL that does not parse is exit 2, password hidden", async (runtime) => {
  await withTempDir(async (dir) => {
    const migrations = chainDir(dir);
    for (
      const url of [
        "postgresql://app:hunter22@127.0.0.1:99999/app",
        "postgresql://app:hun#ter22@127.0.0.1/app",
        "postgresql://app:hunter22@/app?host=/var/run/postgresql",
      ]
    ) {
      const result = await runCli(runtime, ["--url", url, "--dir", migrations, "upgrade"]);
      assert.equal(result.code, 2, `${url}: ${result.stderr}`);
      assert.match(
        result.stderr,
        /error: Cannot use database URL postgresql:\/\/app:\*\*\*@\S*: it does not parse as a URL/,
      );
      assert.doesNotMatch(result.stderr, /statement:/);
      assert.doesNotMatch(result.stdout + result.stderr, /hunter22|ter22/);
    }
  });
});

runtimeTest(
  "a missing PostgreSQL database names the server and no statement",
  async (runtime) => {
    const server = (await testServerUrl())!;
    const url = new URL(databaseUrl(server, "strata_no_such_database"));
    url.password = "hunter22"; // trust authentication ignores it; it must not be printed
    await withTempDir(async (dir) => {
      const migrations = chainDir(dir);
      for (const args of [["upgrade"], ["current"], ["--json", "stamp", "head"]]) {
        const result = await runCli(runtime, [
          "--url",
          url.toString(),
          "--dir",
          migrations,
          ...args,
        ]);
        assert.equal(result.code, 1, `${args.join(" ")}: ${result.stderr}`);
        assert.match(
          result.stderr,
          /error: Cannot connect to postgres(ql)?:\/\/\w+:\*\*\*@[^/]+\/strata_no_such_database: database "strata_no_such_database" does not exist/,
        );
        assert.doesNotMatch(result.stderr, /statement|SELECT 1/);
        assert.doesNotMatch(result.stdout + result.stderr, /hunter22/);
        if (args[0] === "--json") failureDocument(result);
      }
    });
  },
  [POSTGRES],
);

runtimeTest("a SQLite file that is not a database is named, with no statement", async (
  runtime,
) => {
  await withTempDir(async (dir) => {
    const migrations = chainDir(dir);
    const file = path.join(dir, "notes.db");
    fs.writeFileSync(file, "these are not the pages of a database\n".repeat(50));
    const before = fs.readFileSync(file);
    for (const args of [["upgrade"], ["current"], ["upgrade", "--sql"]]) {
      const result = await runCli(runtime, [
        "--url",
        `sqlite:${file}`,
        "--dir",
        migrations,
        ...args,
      ]);
      assert.equal(result.code, 1, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, /error: Cannot open sqlite:.*notes\.db: file is not a database/);
      assert.doesNotMatch(result.stderr, /statement|SELECT 1/);
    }
    assert.deepEqual(fs.readFileSync(file), before, "the file is unchanged");
  });
});

runtimeTest("a SQLite path that is a directory is exit 2 saying so", async (runtime) => {
  await withTempDir(async (dir) => {
    const migrations = chainDir(dir);
    const directory = path.join(dir, "app.db");
    fs.mkdirSync(directory);
    for (const args of [["upgrade"], ["current"], ["upgrade", "--sql"], ["schema", "dump"]]) {
      const result = await runCli(runtime, [
        "--url",
        `sqlite:${directory}`,
        "--dir",
        migrations,
        ...args,
      ]);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, /error: .*app\.db: it is a directory, not a file/);
    }
  });
});

runtimeTest("--sql --json carries the dry run's statements in its document", async (runtime) => {
  await withTempDir(async (dir) => {
    const root = path.join(dir, "migrations");
    writeFiles(path.join(root, "sqlite"), linearChain(2));
    const result = await runCli(runtime, [
      "--json",
      "--url",
      `sqlite:${path.join(dir, "a.db")}`,
      "--dir",
      root,
      "upgrade",
      "--sql",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const document = JSON.parse(result.stdout);
    assert.equal(document.dryRun, true);
    assert.ok(Array.isArray(document.sql), result.stdout);
    assert.ok(document.sql.some((s: string) => /^CREATE TABLE t1\b/.test(s)), result.stdout);
    assert.ok(document.sql.includes("COMMIT;"), result.stdout);
  });
});

runtimeTest(
  "current prints the revision alone on stdout; what it works on goes to stderr",
  async (runtime) => {
    await withTempDir(async (dir) => {
      const root = path.join(dir, "migrations");
      writeFiles(path.join(root, "sqlite"), linearChain(2));
      const args = ["--url", `sqlite:${path.join(dir, "a.db")}`, "--dir", root];
      assert.equal((await runCli(runtime, [...args, "-q", "upgrade"])).code, 0);
      const result = await runCli(runtime, [...args, "current"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, "a00000000002 (head)\n");
      assert.match(result.stderr, /^strata: sqlite:.*a\.db with .*sqlite \(2 revisions\)$/m);
    });
  },
);

runtimeTest("history -r takes Alembic's 'current' side from the database", async (runtime) => {
  await withTempDir(async (dir) => {
    const root = path.join(dir, "migrations");
    writeFiles(path.join(root, "sqlite"), linearChain(4));
    const args = ["--url", `sqlite:${path.join(dir, "a.db")}`, "--dir", root];
    assert.equal((await runCli(runtime, [...args, "-q", "upgrade", "a00000000002"])).code, 0);
    const ids = (stdout: string) => stdout.trim().split("\n").map((l) => /-> (\w+)/.exec(l)?.[1]);
    const upward = await runCli(runtime, [...args, "history", "-r", "current:"]);
    assert.equal(upward.code, 0, upward.stderr);
    assert.deepEqual(ids(upward.stdout), ["a00000000004", "a00000000003", "a00000000002"]);
    const below = await runCli(runtime, [...args, "history", "-r", "-1:current"]);
    assert.equal(below.code, 0, below.stderr);
    assert.deepEqual(ids(below.stdout), ["a00000000002", "a00000000001"]);
    const noDatabase = await runCli(runtime, ["--dir", root, "history", "-r", "current:"]);
    assert.equal(noDatabase.code, 2, noDatabase.stderr);
    assert.match(noDatabase.stderr, /'current' needs the database/);
  });
});

runtimeTest(
  "--json stays valid JSON when a string ends in password=..., and keeps SQL as written",
  async (runtime) => {
    await withTempDir(async (dir) => {
      const root = path.join(dir, "migrations");
      writeFiles(path.join(root, "sqlite"), {
        "2026_01_01_000001_a00000000001_users.sql": "-- revision: a00000000001\n" +
          "-- down_revision: none\n-- message: Reset every password=NULL\n\n-- migrate:up\n" +
          "CREATE TABLE users (password TEXT);\nUPDATE users SET password=NULL;\n",
        "2026_01_01_000002_a00000000002_pw.sql": "-- revision: a00000000002\n" +
          "-- down_revision: a00000000001\n\n-- migrate:up\n" +
          "UPDATE missing_table SET password=NULL;\n",
      });
      const args = (db: string) => [
        "--json",
        "--url",
        `sqlite:${path.join(dir, db)}`,
        "--dir",
        root,
      ];
      const failed = await runCli(runtime, [...args("a.db"), "upgrade"]);
      assert.equal(failed.code, 1, failed.stderr);
      assert.equal(JSON.parse(failed.stdout).ok, false);
      const history = await runCli(runtime, [...args("a.db"), "history"]);
      assert.equal(history.code, 0, history.stderr);
      assert.equal(JSON.parse(history.stdout).length, 2);
      const dry = await runCli(runtime, [...args("b.db"), "upgrade", "a00000000001", "--sql"]);
      assert.equal(dry.code, 0, dry.stderr);
      const sql: string[] = JSON.parse(dry.stdout).sql;
      assert.ok(sql.includes("UPDATE users SET password=NULL;"), dry.stdout);
    });
  },
);
