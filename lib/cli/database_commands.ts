/**
 * The commands that touch a database: upgrade, downgrade, stamp, current.
 *
 * @module
 */

import type { Command } from "commander";
import {
  current,
  downgrade,
  type MigrateOptions,
  type MigrateResult,
  stamp,
  upgrade,
} from "../migrate.ts";
import type { RunEvent } from "../runner/runner.ts";
import { formatDuration, type Output } from "./output.ts";
import { UsageError } from "./errors.ts";
import { DEFAULT_URL } from "../db/url.ts";

/** The global flags a database command reads. */
interface Flags {
  url?: string;
  dir?: string;
  versionTable: string;
  lockTimeout: string;
  lockFile?: string;
}

function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    throw new UsageError(`${flag} takes a number of seconds, not '${value}'`);
  }
  return n * 1000;
}

/** Options for the library from the command line's flags. */
export function databaseOptions(
  command: Command,
  output: Output,
  label: string,
): MigrateOptions {
  const flags = command.optsWithGlobals<
    Flags & {
      sql?: boolean;
      wait?: boolean;
      waitTimeout?: string;
      statementTimeout?: string;
      lockWaitTimeout?: string;
      flushEachCommit?: boolean;
    }
  >();
  return {
    url: flags.url ?? DEFAULT_URL,
    dir: flags.dir,
    versionTable: flags.versionTable,
    lockTimeoutMs: seconds(flags.lockTimeout, "--lock-timeout"),
    lockFile: flags.lockFile,
    sql: flags.sql ?? false,
    waitTimeoutMs: flags.wait || flags.waitTimeout !== undefined
      ? seconds(flags.waitTimeout ?? "30", "--wait-timeout")
      : undefined,
    statementTimeoutMs: seconds(flags.statementTimeout, "--statement-timeout"),
    lockWaitTimeoutMs: seconds(flags.lockWaitTimeout, "--lock-wait-timeout"),
    flushEachCommit: flags.flushEachCommit ?? false,
    command: label,
    onEvent: (event: RunEvent) => onEvent(event, output),
  };
}

function onEvent(event: RunEvent, output: Output): void {
  switch (event.type) {
    case "start": {
      const count = `${event.revisions} revision${event.revisions === 1 ? "" : "s"}`;
      const text = `strata: ${event.url} with ${event.chain} (${count})`;
      if (event.dryRun) output.result(`-- ${text}`);
      else output.info(text);
      break;
    }
    case "warning":
      output.warning(event.message);
      break;
    case "sql":
      if (output.options.json) output.sql.push(event.text);
      else output.result(event.text);
      break;
    case "step": {
      // A line `--quiet` and `--json` drop anyway: do not build it 200 times.
      if (output.options.quiet || output.options.json) break;
      const r = event.step.revision;
      const arrow = event.step.direction === "up"
        ? output.paint("↑", "green")
        : output.paint("↓", "yellow");
      const stamp = r.timestamp ? `${r.timestamp} ` : "";
      output.line(
        `${arrow} ${stamp}${r.revision} ${r.slug}  ${
          output.paint(formatDuration(event.durationMs), "dim")
        }`,
      );
      break;
    }
  }
}

function addMigrationOptions(command: Command): Command {
  return command
    .option("--sql", "dry run: print the SQL that would run, change nothing")
    .option("--wait", "wait for the database to accept connections (see --wait-timeout)")
    .option("--wait-timeout <seconds>", "how long --wait waits (default 30)")
    .option("--statement-timeout <seconds>", "PostgreSQL statement_timeout per migration")
    .option("--lock-wait-timeout <seconds>", "PostgreSQL lock_timeout per migration")
    .option(
      "--flush-each-commit",
      "PostgreSQL: wait for the disk at every migration's commit, not only at the run's last",
    );
}

function summary(result: MigrateResult, verb: string, elapsedMs: number, output: Output): void {
  if (result.dryRun) return;
  const at = result.after.length > 0 ? result.after.join(", ") : "base";
  const applied = result.steps.filter((s) => s.status === "applied").length;
  if (applied === 0 && verb !== "stamped") {
    output.line(`strata: nothing to do, ${result.url} is at ${at} (${result.chain})`);
    return;
  }
  const what = verb === "stamped"
    ? "stamped"
    : `${applied} migration${applied === 1 ? "" : "s"} ${verb}`;
  output.line(
    `strata: ${what} on ${result.url}, now at ${at}  ${
      output.paint(formatDuration(elapsedMs), "dim")
    }`,
  );
}

async function runMigration(
  output: Output,
  fn: () => Promise<MigrateResult>,
  verb: string,
): Promise<void> {
  const started = performance.now();
  const result = await fn();
  // A dry run's document carries its script: the statements are what it is for.
  if (output.options.json) {
    output.json(result.dryRun ? { ...result, sql: output.sql } : result, output.sql);
  } else summary(result, verb, performance.now() - started, output);
}

/** Register upgrade, downgrade, stamp and current. */
export function registerDatabaseCommands(program: Command, output: () => Output): void {
  addMigrationOptions(
    program.command("upgrade").description("apply migrations up to TARGET").argument(
      "[target]",
      "head, heads, a revision, +N, label@head, or from:to with --sql",
      "head",
    ),
  ).action(async (target: string, _options: unknown, command: Command) => {
    const out = output();
    const options = databaseOptions(command, out, `upgrade ${target}`);
    await runMigration(out, () => upgrade(target, options), "applied");
  });

  addMigrationOptions(
    program.command("downgrade").description("unapply migrations down to TARGET").argument(
      "[target]",
      "-1, base, a revision, or from:to with --sql",
      "-1",
    ),
  ).action(async (target: string, _options: unknown, command: Command) => {
    const out = output();
    const options = databaseOptions(command, out, `downgrade ${target}`);
    await runMigration(out, () => downgrade(target, options), "unapplied");
  });

  addMigrationOptions(
    program.command("stamp").description("set the version table to TARGET without migrating")
      .argument("<target>", "a revision, head, heads or base")
      .option("--purge", "empty the version table first (even of unknown revisions)"),
  ).action(async (target: string, opts: { purge?: boolean }, command: Command) => {
    const out = output();
    const options = databaseOptions(command, out, `stamp ${target}`);
    await runMigration(out, () => stamp(target, { ...options, purge: opts.purge }), "stamped");
  });

  program.command("current").description("show the database's current revisions")
    .option("--verbose", "show each revision's file and message")
    .option("--wait", "wait for the database to accept connections")
    .option("--wait-timeout <seconds>", "how long --wait waits (default 30)")
    .action(async (opts: { verbose?: boolean }, command: Command) => {
      const out = output();
      const result = await current(databaseOptions(command, out, "current"));
      if (out.options.json) {
        out.json(result);
        return;
      }
      if (result.missing) out.result(`(base: no revision; no database file yet) ${result.url}`);
      else if (result.revisions.length === 0) out.result(`(base: no revision) ${result.url}`);
      for (const r of result.revisions) {
        out.result(`${r.revision}${r.isHead ? " (head)" : ""}`);
        if (opts.verbose) out.result(`  ${r.path}\n  ${r.message}`);
      }
    });
}
