#!/usr/bin/env -S deno run --allow-all
/**
 * The strata command line: parses arguments, calls the library, prints, maps errors to exit
 * codes (0 success; 1 a migration or database error; 2 bad usage or bad input files;
 * 3 `check` found a problem).
 *
 * @module
 */

import { Command, CommanderError, Option } from "commander";
import { Output, outputOptions } from "./lib/cli/output.ts";
import { registerDatabaseCommands } from "./lib/cli/database_commands.ts";
import { registerRevisionCommands } from "./lib/cli/revision_commands.ts";
import { registerSchemaCommands } from "./lib/cli/schema_commands.ts";
import { registerCheckCommands } from "./lib/cli/check_commands.ts";
import { ExitCode, exitCodeOf, formatError } from "./lib/cli/errors.ts";
import { MigrationError } from "./lib/runner/runner.ts";
import { versionLine } from "./lib/version.ts";
import { args, exit, setExitCode, writeErr, writeOut } from "./lib/runtime.ts";
import { releaseHeldLockfiles } from "./lib/runner/lock.ts";
import process from "node:process";

/** Global options, as commander parses them. */
export interface GlobalFlags {
  url?: string;
  dir?: string;
  notes?: string;
  versionTable: string;
  lockTimeout: string;
  lockFile?: string;
  json?: boolean;
  quiet?: boolean;
  color?: boolean;
}

type Registrar = (program: Command, output: () => Output) => void;

/** Every command group, in the order help lists them. */
const REGISTRARS: readonly Registrar[] = [
  registerDatabaseCommands,
  registerRevisionCommands,
  registerCheckCommands,
  registerSchemaCommands,
];

/** The group of each command: a run registers only its command's group (a few ms saved). */
const GROUP_OF: Readonly<Record<string, Registrar>> = {
  upgrade: registerDatabaseCommands,
  downgrade: registerDatabaseCommands,
  stamp: registerDatabaseCommands,
  current: registerDatabaseCommands,
  revision: registerRevisionCommands,
  merge: registerRevisionCommands,
  heads: registerRevisionCommands,
  branches: registerRevisionCommands,
  history: registerRevisionCommands,
  show: registerRevisionCommands,
  check: registerCheckCommands,
  notes: registerCheckCommands,
  schema: registerSchemaCommands,
};

/**
 * The command word of `argv`: its first operand, past global options strata knows: those that
 * take a value (`valueOptions`, with the value apart or after `=`) and plain flags (`flags`).
 * Null when there is none, or when an option comes first that commander handles at the top
 * (help, version, an unknown option, a value given to a flag): it then prints help for every
 * command.
 */
export function commandWord(
  argv: readonly string[],
  valueOptions: ReadonlySet<string>,
  flags: ReadonlySet<string>,
) {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") return argv[i + 1] ?? null;
    if (!arg.startsWith("-") || arg === "-") return arg;
    const equals = arg.indexOf("=");
    if (equals > 0 && arg.startsWith("--") && valueOptions.has(arg.slice(0, equals))) continue;
    if (valueOptions.has(arg)) i++;
    else if (!flags.has(arg)) return null;
  }
  return null;
}

/**
 * The program with the commands `argv` may need: the group of its command word when that
 * names a command, else every group (help, a mistyped command and its suggestions).
 */
export function buildProgram(argv: readonly string[] = []): Command {
  const program = new Command("strata")
    .description(
      "Schema migrations with per-dialect chains (SQLite, PostgreSQL) and Alembic's semantics",
    )
    // The line is built only when asked for (it opens a SQLite database for its version):
    // commander prints the value through a template string.
    .version(
      { toString: versionLine } as unknown as string,
      "-V, --version",
      "print version, runtime and SQLite version",
    )
    .addOption(
      new Option("--url <url>", "database URL (sqlite:path.db, postgresql://...)").env(
        "DATABASE_URL",
      ),
    )
    .option("--dir <dir>", "migrations root holding sqlite/ and postgresql/")
    .option("--notes <file>", "MIGRATION-NOTES.md (default: beside --dir)")
    .option("--version-table <name>", "version table", "alembic_version")
    .option("--lock-timeout <seconds>", "wait this long for another run's lock", "60")
    .option("--lock-file <file>", "lockfile for PostgreSQL runs")
    .option("--json", "print one JSON document for machines")
    .option("-q, --quiet", "print errors only")
    .option("--no-color", "no colour (also NO_COLOR)")
    // With --json, stderr gets commander's one-line message and stdout the failure document.
    .showHelpAfterError(!jsonRequested(argv))
    .configureOutput({
      // Through strata's writers, which `exit` knows how to wait for.
      writeOut,
      writeErr,
      outputError: (text, write) => write(text),
    })
    .exitOverride();
  const output = () => new Output(outputOptions(program.opts<GlobalFlags>()));
  const names = (options: typeof program.options) =>
    new Set(
      options.flatMap((o) => [o.long, o.short]).filter((n): n is string => n !== undefined),
    );
  const valueOptions = names(program.options.filter((o) => o.required || o.optional));
  // --version is handled at the top, like --help.
  const flags = names(
    program.options.filter((o) => !o.required && !o.optional && o.long !== "--version"),
  );
  const word = commandWord(argv, valueOptions, flags);
  const group = word !== null && Object.hasOwn(GROUP_OF, word) ? GROUP_OF[word] : null;
  for (const register of group ? [group] : REGISTRARS) register(program, output);
  return program;
}

/** True when `--json` is among the options of `argv` (before a `--`). */
export function jsonRequested(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).includes("--json");
}

/** A commander error's message without its `error: ` prefix. */
function usageMessage(error: CommanderError): string {
  // A missing command shows the help, with "(outputHelp)" for a message.
  if (error.code === "commander.help") return "no command given (see strata --help)";
  return error.message.replace(/^error: /, "");
}

/** Run the command line with these arguments; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram(argv);
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof ExitCode) return error.code;
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were printed by commander.
      if (error.exitCode === 0) return 0;
      if (jsonRequested(argv)) {
        // Commander stops before the options are read: --json is looked for in argv.
        new Output({ json: true, quiet: false, color: false }).json({
          ok: false,
          exitCode: 2,
          error: usageMessage(error),
        });
      }
      return 2;
    }
    const output = new Output(outputOptions(program.opts<GlobalFlags>()));
    const code = exitCodeOf(error);
    output.error(formatError(error));
    if (output.options.json) {
      // Machines reading stdout get a document for failures too.
      const results = error instanceof MigrationError ? error.results : undefined;
      output.json({ ok: false, exitCode: code, error: formatError(error), results });
    }
    return code;
  }
}

/**
 * On SIGINT, SIGTERM (`docker stop`, a deploy tool's timeout) and SIGHUP: remove the lockfiles
 * this run holds, then exit as the signal would. The open transaction dies with the process
 * (SQLite rolls back its hot journal on the next open; PostgreSQL when the connection drops),
 * so the next run finds the database as it was before the interrupted migration, and no lock.
 */
function releaseLocksOnSignals(): void {
  const codes = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
  for (const [signal, code] of Object.entries(codes)) {
    try {
      process.on(signal, () => {
        releaseHeldLockfiles();
        writeErr(`strata: ${signal}, stopped; the migration in progress was not committed\n`);
        process.exit(code);
      });
    } catch {
      // A signal this platform does not have (SIGHUP on Windows).
    }
  }
}

if (import.meta.main) {
  releaseLocksOnSignals();
  const code = await main(args());
  setExitCode(code);
  // Porsager keeps sockets for a moment after `end()`; do not wait for them.
  await exit(code);
}
