/**
 * The commands that need no database: heads, branches, history, show, notes verify,
 * revision and merge.
 *
 * Each chain is addressed by `--dialect sqlite|postgresql` or by the dialect of `--url`;
 * without either, commands that read report both chains.
 *
 * @module
 */

import { type Command, Option } from "commander";
import { dialectOfUrl } from "../db/url.ts";
import { openExisting } from "../db/open.ts";
import { readVersions } from "../runner/runner.ts";
import { type DialectName, DIALECTS, type Revision } from "../revision/revision.ts";
import { type Chain, loadProjectChain, locateProject, type ProjectLocation } from "../project.ts";
import type { Output } from "./output.ts";
import { UsageError } from "./errors.ts";
import { displayPath, env } from "../runtime.ts";
// Loaded by the commands that write revisions only: it pulls in autogenerate.
import type { ReviseResult } from "../revise.ts";

interface Flags {
  url?: string;
  dir?: string;
  notes?: string;
  dialect?: DialectName;
}

function dialectOption(): Option {
  return new Option("--dialect <dialect>", "the chain: sqlite or postgresql").choices([
    "sqlite",
    "postgresql",
  ]);
}

/** The dialects a command addresses: `--dialect`, else `--url`'s, else all. */
export function selectedDialects(flags: Flags): DialectName[] {
  if (flags.dialect) return [flags.dialect];
  // Only an explicit --url picks a chain; DATABASE_URL alone does not narrow read commands.
  const url = flags.url && flags.url !== env("DATABASE_URL") ? flags.url : undefined;
  if (url) return [dialectOfUrl(url)];
  return [...DIALECTS];
}

/** Load the chains a command addresses. */
export async function loadSelectedChains(
  command: Command,
): Promise<{ location: ProjectLocation; chains: Chain[]; flags: Flags }> {
  const flags = command.optsWithGlobals<Flags>();
  const location = locateProject({ dir: flags.dir, notes: flags.notes });
  const chains: Chain[] = [];
  for (const dialect of selectedDialects(flags)) {
    chains.push(await loadProjectChain(location, dialect));
  }
  return { location, chains, flags };
}

function describe(revision: Revision, chain: Chain, current?: ReadonlySet<string>): string {
  const graph = chain.graph;
  const tags: string[] = [];
  if (current?.has(revision.revision)) tags.push("current");
  if (graph.heads.includes(revision.revision)) tags.push("head");
  if (graph.bases.includes(revision.revision)) tags.push("base");
  if (graph.branchPoints.includes(revision.revision)) tags.push("branchpoint");
  if (graph.mergePoints.includes(revision.revision)) tags.push("mergepoint");
  const labels = [...graph.branchLabels(revision.revision)];
  const parents = revision.downRevisions.length > 0 ? revision.downRevisions.join(", ") : "<base>";
  return `${parents} -> ${revision.revision}${tags.length ? ` (${tags.join(") (")})` : ""}${
    labels.length ? ` (${labels.join(", ")})` : ""
  }, ${revision.message || revision.slug}`;
}

function revisionJson(revision: Revision, chain: Chain) {
  return {
    dialect: chain.dialect,
    revision: revision.revision,
    downRevisions: revision.downRevisions,
    branchLabels: [...chain.graph.branchLabels(revision.revision)],
    dependsOn: revision.dependsOn,
    message: revision.message,
    path: revision.path,
    isHead: chain.graph.heads.includes(revision.revision),
  };
}

function printWarnings(chains: Chain[], out: Output): void {
  for (const chain of chains) for (const w of chain.warnings) out.warning(w);
}

/**
 * The database's current revisions, when a URL is given (`--url` or `DATABASE_URL`), for the
 * chain of its dialect. A database that cannot be read is a warning: history needs none.
 */
async function currentRevisions(
  command: Command,
  chains: readonly Chain[],
  out: Output,
): Promise<Map<DialectName, Set<string>>> {
  const flags = command.optsWithGlobals<Flags & { versionTable: string }>();
  const found = new Map<DialectName, Set<string>>();
  if (!flags.url) return found;
  const dialect = dialectOfUrl(flags.url);
  if (!chains.some((c) => c.dialect === dialect)) return found;
  try {
    const connection = openExisting(flags.url);
    try {
      found.set(dialect, new Set(await readVersions(connection, flags.versionTable)));
    } finally {
      await connection.close();
    }
  } catch (error) {
    out.warning(`cannot read the current revisions: ${(error as Error).message}`);
  }
  return found;
}

/**
 * A `history -r` range with Alembic's `current` side (`current:`, `-3:current`) replaced by the
 * database's revision: `base` when it has none; refused when there is no database to ask, or
 * when it has several heads (name one).
 */
function withCurrent(
  range: string,
  chain: Chain,
  current: ReadonlyMap<DialectName, ReadonlySet<string>>,
  urlGiven: boolean,
): string | null {
  const sides = range.split(":");
  if (!sides.some((side) => side.trim() === "current")) return range;
  const rows = current.get(chain.dialect);
  if (!rows) {
    throw new UsageError(
      urlGiven
        ? `Cannot list history ${range}: the database's current revision could not be read ` +
          "(see the warning above)"
        : `Cannot list history ${range} for the ${chain.dialect} chain: 'current' needs the ` +
          "database (--url or DATABASE_URL)",
    );
  }
  if (rows.size > 1) {
    throw new UsageError(
      `Cannot list history ${range}: the database has ${rows.size} heads (${
        [...rows].join(", ")
      }); name one instead of 'current'`,
    );
  }
  const at = rows.size === 0 ? "base" : [...rows][0];
  const [lower, upper] = sides.map((side) => side.trim());
  // Up to a database at base: nothing to list.
  if (upper === "current" && at === "base") return null;
  // `-3:current`: as in Alembic, three below the current revision.
  if (upper === "current" && /^-\d+$/.test(lower ?? "") && at !== "base") {
    let from = at;
    for (let step = Number(lower!.slice(1)); step > 0; step--) {
      const parents = chain.graph.normalizedDownRevisions(from);
      if (parents.length !== 1) {
        // At a base the range starts there; at a merge the walk down has no one way.
        if (parents.length === 0) break;
        throw new UsageError(
          `Cannot list history ${range}: ${from} is a merge point; name the lower end`,
        );
      }
      from = parents[0];
    }
    return `${from}:${at}`;
  }
  return sides.map((side) => side.trim() === "current" ? at : side).join(":");
}

function printCreated(result: ReviseResult, out: Output): void {
  if (out.options.json) {
    out.json(result);
    return;
  }
  if (result.files.length === 0) {
    out.line("strata: nothing to write");
    return;
  }
  for (const file of result.files) {
    out.line(`created ${file.dialect} ${file.revision}  ${displayPath(file.path)}`);
  }
  out.line(`noted   "${result.title}" in ${displayPath(result.notes)}`);
}

/** Register the commands that need no database. */
export function registerRevisionCommands(program: Command, output: () => Output): void {
  program.command("revision").description(
    "create a new revision in each chain, and its notes entry",
  )
    .requiredOption("-m, --message <message>", "what the revision changes")
    .addOption(dialectOption())
    .option("--sql", "write .sql files instead of .ts")
    .option("--autogenerate", "fill it from the schema definition (see --schema)")
    .option("--schema <file>", "the schema definition (default: schema.ts beside --dir)")
    .action(async (
      opts: {
        message: string;
        dialect?: DialectName;
        sql?: boolean;
        autogenerate?: boolean;
        schema?: string;
      },
      command: Command,
    ) => {
      const out = output();
      const flags = command.optsWithGlobals<Flags>();
      const { createRevision } = await import("../revise.ts");
      const result = await createRevision({
        message: opts.message,
        dir: flags.dir,
        notes: flags.notes,
        dialects: opts.dialect ? [opts.dialect] : undefined,
        sql: opts.sql,
        autogenerate: opts.autogenerate,
        schema: opts.schema,
        url: flags.url,
        onWarning: (w) => out.warning(w),
      });
      printCreated(result, out);
    });

  program.command("merge").description("merge heads (or the given revisions) into one revision")
    .argument("[revisions...]", "revisions to merge (default: heads)")
    .requiredOption("-m, --message <message>", "what the merge is for")
    .addOption(dialectOption())
    .option("--sql", "write .sql files instead of .ts")
    .action(async (
      revisions: string[],
      opts: { message: string; dialect?: DialectName; sql?: boolean },
      command: Command,
    ) => {
      const out = output();
      const flags = command.optsWithGlobals<Flags>();
      const { createMerge } = await import("../revise.ts");
      const result = await createMerge({
        message: opts.message,
        dir: flags.dir,
        notes: flags.notes,
        dialects: opts.dialect ? [opts.dialect] : undefined,
        sql: opts.sql,
        revisions,
      });
      printCreated(result, out);
    });

  program.command("heads").description("show the head revisions of each chain")
    .addOption(dialectOption())
    .option("--verbose", "show files and messages")
    .action(async (opts: { verbose?: boolean }, command: Command) => {
      const out = output();
      const { chains } = await loadSelectedChains(command);
      printWarnings(chains, out);
      const heads = chains.flatMap((chain) =>
        chain.graph.heads.map((id) => ({ chain, revision: chain.graph.get(id)! }))
      );
      if (out.options.json) {
        out.json(heads.map(({ chain, revision }) => revisionJson(revision, chain)));
        return;
      }
      for (const { chain, revision } of heads) {
        const prefix = chains.length > 1 ? `${chain.dialect}: ` : "";
        out.result(
          `${prefix}${revision.revision} (head)${opts.verbose ? `  ${revision.path}` : ""}`,
        );
      }
    });

  program.command("branches").description("show branch points and their branches")
    .addOption(dialectOption())
    .action(async (_opts: unknown, command: Command) => {
      const out = output();
      const { chains } = await loadSelectedChains(command);
      printWarnings(chains, out);
      const points = chains.flatMap((chain) =>
        chain.graph.branchPoints.map((id) => ({ chain, revision: chain.graph.get(id)! }))
      );
      if (out.options.json) {
        out.json(points.map(({ chain, revision }) => ({
          ...revisionJson(revision, chain),
          children: chain.graph.children(revision.revision),
        })));
        return;
      }
      for (const { chain, revision } of points) {
        out.result(`${chains.length > 1 ? `${chain.dialect}: ` : ""}${describe(revision, chain)}`);
        for (const child of chain.graph.children(revision.revision)) {
          out.result(`  -> ${describe(chain.graph.get(child)!, chain)}`);
        }
      }
    });

  program.command("history").description("list revisions, newest first")
    .addOption(dialectOption())
    .option("-r, --rev-range <range>", "a range such as base:head or -3:")
    .option("--verbose", "show files, dates and dependencies")
    .action(async (opts: { revRange?: string; verbose?: boolean }, command: Command) => {
      const out = output();
      const { chains } = await loadSelectedChains(command);
      printWarnings(chains, out);
      const current = await currentRevisions(command, chains, out);
      // With `current` in the range, only the chain of the database asked has a current.
      const asksCurrent = opts.revRange?.split(":").some((side) => side.trim() === "current");
      const listed = asksCurrent && current.size > 0
        ? chains.filter((chain) => current.has(chain.dialect))
        : chains;
      const urlGiven = Boolean(command.optsWithGlobals<Flags>().url);
      const entries = listed.flatMap((chain) => {
        const range = opts.revRange === undefined
          ? undefined
          : withCurrent(opts.revRange, chain, current, urlGiven);
        if (range === null) return [];
        return (range === undefined ? chain.graph.history() : chain.graph.historyRange(range))
          .map((revision) => ({ chain, revision }));
      });
      if (out.options.json) {
        out.json(entries.map(({ chain, revision }) => ({
          ...revisionJson(revision, chain),
          isCurrent: current.get(chain.dialect)?.has(revision.revision) ?? false,
        })));
        return;
      }
      let previous: DialectName | null = null;
      for (const { chain, revision } of entries) {
        if (chains.length > 1 && previous !== chain.dialect) {
          if (previous) out.result("");
          out.result(`# ${chain.dialect} (${chain.dir})`);
          previous = chain.dialect;
        }
        out.result(describe(revision, chain, current.get(chain.dialect)));
        if (opts.verbose) {
          out.result(`    ${revision.path}`);
          if (revision.dependsOn.length) {
            out.result(`    depends on: ${revision.dependsOn.join(", ")}`);
          }
        }
      }
    });

  program.command("show").description("show one revision")
    .argument("<rev>", "a revision, prefix, head or label@head")
    .addOption(dialectOption())
    .action(async (rev: string, _opts: unknown, command: Command) => {
      const out = output();
      const { chains } = await loadSelectedChains(command);
      const found: { chain: Chain; revision: Revision }[] = [];
      const errors: Error[] = [];
      for (const chain of chains) {
        try {
          for (const revision of chain.graph.resolve(rev)) found.push({ chain, revision });
        } catch (error) {
          errors.push(error as Error);
        }
      }
      if (found.length === 0) throw errors[0] ?? new UsageError(`Cannot find revision ${rev}`);
      if (out.options.json) {
        out.json(found.map(({ chain, revision }) => revisionJson(revision, chain)));
        return;
      }
      for (const { chain, revision } of found) {
        out.result(
          `Rev: ${revision.revision}${
            chain.graph.heads.includes(revision.revision) ? " (head)" : ""
          }`,
        );
        out.result(`Dialect: ${chain.dialect}`);
        out.result(`Parent: ${revision.downRevisions.join(", ") || "<base>"}`);
        const labels = [...chain.graph.branchLabels(revision.revision)];
        if (labels.length) out.result(`Branch names: ${labels.join(", ")}`);
        if (revision.dependsOn.length) {
          out.result(`Also depends on: ${revision.dependsOn.join(", ")}`);
        }
        out.result(`Path: ${revision.path}`);
        out.result("");
        out.result(`    ${revision.message || revision.slug}`);
        out.result("");
      }
    });
}
