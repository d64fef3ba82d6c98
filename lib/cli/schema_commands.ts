/**
 * `strata schema dump`: a database's schema (or a schema definition's) as stable text, or as
 * JSON with `--json`. The same schema always dumps to the same bytes, so dumps can be committed
 * and compared with `diff`. strata's own tables (the `--version-table`, `strata_log`) are left
 * out.
 *
 * @module
 */

import type { Command } from "commander";
// autogenerate is loaded by `schema dump` only.
const autogen = () => import("../autogen/autogenerate.ts");
import { openExisting } from "../db/open.ts";
import { DEFAULT_URL, parseDatabaseUrl } from "../db/url.ts";
import type { DialectName } from "../revision/revision.ts";
import { importModule, path } from "../runtime.ts";
import type { Output } from "./output.ts";
import { UsageError } from "./errors.ts";

/** The flags `schema dump` reads (its own and the global ones). */
interface DumpFlags {
  url?: string;
  versionTable: string;
  json?: boolean;
  schema?: string;
  definition?: string;
  dialect?: string;
}

/** Open the database to dump; a SQLite file is opened read-only and never created. */
function openForDump(url: string) {
  return openExisting(url, "Cannot dump the schema of");
}

function print(out: Output, text: string): void {
  if (out.options.json) out.json(JSON.parse(text));
  else out.result(text.trimEnd());
}

async function dumpDefinitionFile(file: string, flags: DumpFlags, out: Output): Promise<void> {
  const dialect = flags.dialect ?? (flags.url ? parseDatabaseUrl(flags.url).dialect : undefined);
  if (dialect !== "sqlite" && dialect !== "postgresql") {
    throw new UsageError(
      dialect === undefined
        ? "Cannot dump a definition without a dialect: pass --dialect sqlite|postgresql"
        : `Cannot dump a definition for dialect '${dialect}': use sqlite or postgresql`,
    );
  }
  const module = await importModule(path.resolve(file));
  const { dumpDefinition } = await autogen();
  print(
    out,
    dumpDefinition({ default: module.default }, dialect as DialectName, {
      json: flags.json ?? false,
    }),
  );
}

/** Register `schema dump`. */
export function registerSchemaCommands(program: Command, output: () => Output): void {
  const schema = program.command("schema").description("inspect database schemas");
  schema.command("dump")
    .description("print the --url database's schema as stable text (JSON with --json)")
    .option("--schema <name>", "PostgreSQL schema to read (default: current_schema())")
    .option("--definition <file>", "dump a schema definition (schema.ts) instead of a database")
    .option("--dialect <dialect>", "the dialect to read --definition for (default: --url's)")
    .action(async (_options: unknown, command: Command) => {
      const out = output();
      const flags = command.optsWithGlobals<DumpFlags>();
      if (flags.definition !== undefined) {
        await dumpDefinitionFile(flags.definition, flags, out);
        return;
      }
      const { dumpSchema } = await autogen();
      const connection = openForDump(flags.url ?? DEFAULT_URL);
      try {
        const text = await dumpSchema(connection, {
          json: flags.json ?? false,
          versionTable: flags.versionTable,
          ...(flags.schema === undefined ? {} : { schema: flags.schema }),
        });
        print(out, text);
      } finally {
        await connection.close();
      }
    });
}
