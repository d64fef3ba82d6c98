/**
 * Colour only on a terminal, and never with `NO_COLOR` or `--no-color`: the command line under
 * a real pseudo-terminal (util-linux `script`), on a pipe, and the terminal test itself with
 * stdout on a terminal, a pipe, a file and `/dev/null`, under Deno and Bun.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { CLI, ROOT, runCommand, type Runtime, runtimeTest } from "./support/runtimes.ts";
import type { Requirement } from "./support/requirement.ts";
import { linearChain } from "./support/databases.ts";
import { withTempDir, writeFiles } from "./support/tmp.ts";

const SCRIPT: Requirement = {
  missing: spawnSync("sh", ["-c", "command -v script"]).status === 0
    ? null
    : "no `script` (util-linux) for a pseudo-terminal",
  remedy: "install util-linux (`apt-get install util-linux`)",
};

const ESCAPE = "\x1b[";

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The runtime's command running `file` with `args`, as one shell command line. */
function commandLine(runtime: Runtime, file: string, args: readonly string[]): string {
  return [...runtime.command!, file, ...args].map(shellQuote).join(" ");
}

/** Run a shell command line with its stdout on a pseudo-terminal; what the terminal showed. */
function onTerminal(line: string, env: Record<string, string>) {
  return runCommand(["script", "-qec", line, "/dev/null"], { env });
}

runtimeTest("colour on a terminal only, and never with NO_COLOR or --no-color", async (runtime) => {
  await withTempDir(async (dir) => {
    const migrations = path.join(dir, "migrations");
    writeFiles(path.join(migrations, "sqlite"), linearChain(2));
    const args = (db: string, ...more: string[]) => [
      "--url",
      `sqlite:${path.join(dir, db)}`,
      "--dir",
      migrations,
      ...more,
      "upgrade",
      "head",
    ];
    const tty = await onTerminal(commandLine(runtime, CLI, args("a.db")), { NO_COLOR: "" });
    assert.equal(tty.code, 0, tty.stdout + tty.stderr);
    assert.ok(tty.stdout.includes(`${ESCAPE}32m↑`), `a green arrow on a terminal:\n${tty.stdout}`);

    const noColor = await onTerminal(commandLine(runtime, CLI, args("b.db")), { NO_COLOR: "1" });
    assert.equal(noColor.code, 0, noColor.stdout + noColor.stderr);
    assert.match(noColor.stdout, /↑/);
    assert.ok(!noColor.stdout.includes(ESCAPE), `no colour with NO_COLOR:\n${noColor.stdout}`);

    const flag = await onTerminal(commandLine(runtime, CLI, args("c.db", "--no-color")), {
      NO_COLOR: "",
    });
    assert.equal(flag.code, 0, flag.stdout + flag.stderr);
    assert.match(flag.stdout, /↑/);
    assert.ok(!flag.stdout.includes(ESCAPE), `no colour with --no-color:\n${flag.stdout}`);

    const pipe = await runCommand([...runtime.command!, CLI, ...args("d.db")], {
      env: { NO_COLOR: "" },
    });
    assert.equal(pipe.code, 0, pipe.stderr);
    assert.match(pipe.stdout, /↑/);
    assert.ok(!pipe.stdout.includes(ESCAPE), `no colour on a pipe:\n${pipe.stdout}`);
  });
}, [SCRIPT]);

runtimeTest("stdout is a terminal only when it is one", async (runtime) => {
  await withTempDir(async (dir) => {
    const probe = commandLine(runtime, path.join(ROOT, "tests", "support", "print_tty.ts"), []);
    /** What the probe answers with its stdout sent where `redirect` says (stderr comes back). */
    const answer = async (redirect: string) => {
      const result = await runCommand(["sh", "-c", `exec 3>&1; ${probe} 2>&3 ${redirect}`]);
      return result.stdout.trim();
    };
    // On a terminal: `script` gives the probe a pseudo-terminal for stdout and stderr.
    const tty = await onTerminal(probe, {});
    assert.equal(tty.stdout.trim(), "true");
    assert.equal(await answer("| cat >/dev/null"), "false", "a pipe");
    assert.equal(await answer(`> ${shellQuote(path.join(dir, "out.txt"))}`), "false", "a file");
    assert.equal(await answer("> /dev/null"), "false", "/dev/null, a character device");
  });
}, [SCRIPT]);

runtimeTest("standard error has its own colour decision", async (runtime) => {
  await withTempDir(async (dir) => {
    const err = path.join(dir, "err.txt");
    const args = ["--url", `sqlite:${path.join(dir, "a.db")}`, "--dir", dir, "upgrade", "zzzz"];
    // Stdout on the terminal, stderr in a file: the file gets no escape codes.
    const toFile = await onTerminal(`${commandLine(runtime, CLI, args)} 2>${shellQuote(err)}`, {
      NO_COLOR: "",
    });
    assert.notEqual(toFile.code, 0);
    const written = Deno.readTextFileSync(err);
    assert.match(written, /^error: /m);
    assert.ok(!written.includes(ESCAPE), `no colour in a redirected stderr:\n${written}`);
    // Both on the terminal: the error is red.
    const both = await onTerminal(commandLine(runtime, CLI, args), { NO_COLOR: "" });
    assert.ok(
      both.stdout.includes(`${ESCAPE}31merror:`),
      `a red error on a terminal:\n${both.stdout}`,
    );
  });
}, [SCRIPT]);
