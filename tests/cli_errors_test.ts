/**
 * Bad input at the command line: each a clear error, the right exit code, no password
 * printed, and nothing changed.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { runCli, runtimeTest } from "./support/runtimes.ts";
import { withTempDir } from "./support/tmp.ts";
import { linearChain } from "./support/databases.ts";
import { writeFiles } from "./support/tmp.ts";

function chainDir(dir: string): string {
  writeFiles(path.join(dir, "migrations", "sqlite"), linearChain(2));
  writeFiles(path.join(dir, "migrations", "postgresql"), linearChain(2));
  return path.join(dir, "migrations");
}

runtimeTest("an unsupported scheme is exit 2 and the password is hidden", async (runtime) => {
  await withTempDir(async (dir) => {
    const result = await runCli(runtime, [
      "--url",
      "mysql://root:hunter2@db.example/app",
      "--dir",
      chainDir(dir),
      "upgrade",
    ]);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /error: Cannot use database URL mysql:\/\/root:\*\*\*@db\.example\/app: unsupported scheme 'mysql'/,
    );
    assert.doesNotMatch(result.stdout + result.stderr, /hunter2/);
  });
});

runtimeTest(
  "a SQLite path in a missing directory is an error, not a new directory",
  async (runtime) => {
    await withTempDir(async (dir) => {
      const missing = path.join(dir, "no", "such", "dir");
      const result = await runCli(runtime, [
        "--url",
        `sqlite:${missing}/app.db`,
        "--dir",
        chainDir(dir),
        "upgrade",
      ]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /directory .*no\/such\/dir does not exist/);
      assert.equal(fs.existsSync(path.join(dir, "no")), false);
    });
  },
);

runtimeTest(
  "commands that only read a SQLite database never create the file",
  async (runtime) => {
    await withTempDir(async (dir) => {
      const migrations = chainDir(dir);
      const typo = path.join(dir, "typo.db");
      const url = `sqlite:${typo}`;
      const check = await runCli(runtime, ["--url", url, "--dir", migrations, "check"]);
      assert.notEqual(check.code, 0, check.stdout + check.stderr);
      assert.match(
        check.stdout + check.stderr,
        /cannot read sqlite:.*typo\.db: the file .*does not exist/,
      );
      const history = await runCli(runtime, ["--url", url, "--dir", migrations, "history"]);
      assert.equal(history.code, 0, history.stderr);
      assert.match(history.stderr, /cannot read the current revisions: the file .*does not exist/);
      const dump = await runCli(runtime, ["--url", url, "--dir", migrations, "schema", "dump"]);
      assert.notEqual(dump.code, 0);
      assert.match(
        dump.stderr,
        /Cannot dump the schema of sqlite:.*typo\.db: the file does not exist/,
      );
      const current = await runCli(runtime, ["--url", url, "--dir", migrations, "current"]);
      assert.equal(current.code, 0, current.stderr);
      assert.equal(fs.existsSync(typo), false, "no file was created");
    });
  },
);

runtimeTest("an unknown target is exit 2 and changes nothing", async (runtime) => {
  await withTempDir(async (dir) => {
    const db = path.join(dir, "app.db");
    const result = await runCli(runtime, [
      "--url",
      `sqlite:${db}`,
      "--dir",
      chainDir(dir),
      "upgrade",
      "deadbeef0000",
    ]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /error: .*deadbeef0000/);
  });
});

runtimeTest(
  "an unreachable server fails after --wait-timeout, password hidden",
  async (runtime) => {
    await withTempDir(async (dir) => {
      const started = Date.now();
      const result = await runCli(runtime, [
        "--url",
        "postgresql://app:s3cret-pw@127.0.0.1:1/app",
        "--dir",
        chainDir(dir),
        "upgrade",
        "--wait",
        "--wait-timeout",
        "1.5",
      ]);
      const elapsed = Date.now() - started;
      assert.equal(result.code, 1);
      assert.match(result.stderr, /error: .*127\.0\.0\.1/);
      assert.ok(elapsed >= 1400, `waited ${elapsed} ms`);
      assert.doesNotMatch(result.stdout + result.stderr, /s3cret-pw/);
    });
  },
);

runtimeTest("a rejected login is exit 1 and never prints the password", async (runtime) => {
  const server = Deno.env.get("STRATA_TEST_DATABASE_URL") ??
    "postgres://postgres@127.0.0.1:5432/postgres";
  const url = new URL(server);
  url.username = "no_such_role_strata";
  url.password = "wrong-password-123";
  await withTempDir(async (dir) => {
    const result = await runCli(runtime, [
      "--url",
      url.toString(),
      "--dir",
      chainDir(dir),
      "current",
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /error: .*no_such_role_strata/);
    assert.doesNotMatch(result.stdout + result.stderr, /wrong-password-123/);
  });
});

runtimeTest("--json prints one document; -q prints nothing on success", async (runtime) => {
  await withTempDir(async (dir) => {
    const url = `sqlite:${path.join(dir, "app.db")}`;
    const migrations = chainDir(dir);
    const json = await runCli(runtime, ["--url", url, "--dir", migrations, "--json", "upgrade"]);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.steps.length, 2);
    assert.equal(doc.steps[0].status, "applied");
    const quiet = await runCli(runtime, ["--url", url, "--dir", migrations, "-q", "downgrade"]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stdout, "");
    const now = await runCli(runtime, ["--url", url, "--dir", migrations, "--json", "current"]);
    assert.equal(JSON.parse(now.stdout).revisions[0].revision, "a00000000001");
  });
});
