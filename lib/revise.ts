/**
 * `strata revision` and `strata merge` as a library: write the new migration files of both
 * chains (one timestamp and slug, a new ID each) and prepend the notes entry.
 *
 * With `autogenerate`, each selected dialect's chain is replayed into a database at its head
 * (in-memory SQLite; a scratch PostgreSQL database on the server of `url`), compared with the
 * schema definition, and the differences become the migration's body. A dialect with no
 * differences gets no file (`None` in the notes).
 *
 * @module
 */

import { embeddedFiles } from "./embedded.ts";
import { autogenerate } from "./autogen/autogenerate.ts";
import { loadDefinition } from "./autogen/drift.ts";
import { renderOperations } from "./autogen/render.ts";
import { dialectOfUrl } from "./db/url.ts";
import { type Chain, loadProjectChain, locateProject, type ProjectLocation } from "./project.ts";
import { formatNotes, parseNotes, prependEntry } from "./revision/notes.ts";
import { type DialectName, DIALECTS } from "./revision/revision.ts";
import { scaffoldMerge, type ScaffoldResult, scaffoldRevision } from "./revision/scaffold.ts";
import { headReplica } from "./runner/replica.ts";
import { path, readTextFileIfExists, writeTextFile } from "./runtime.ts";

/** Options of {@link createRevision} and {@link createMerge}. */
export interface ReviseOptions {
  /** The description: the notes entry's title, and the slug of the file names. */
  readonly message: string;
  /** Migrations root holding `sqlite/` and `postgresql/` (default `./migrations`). */
  readonly dir?: string;
  /** The notes file (default `MIGRATION-NOTES.md` beside the migrations root). */
  readonly notes?: string;
  /** One side only; the other gets `None` in the notes. */
  readonly dialects?: readonly DialectName[];
  /** Write `.sql` files instead of `.ts`. */
  readonly sql?: boolean;
  /** Creation time (default now). */
  readonly date?: Date;
}

/** Options of {@link createRevision}. */
export interface RevisionOptions extends ReviseOptions {
  /** Fill the migration from the schema definition (see the module note). */
  readonly autogenerate?: boolean;
  /** The schema definition (default `schema.ts` beside the migrations root). */
  readonly schema?: string;
  /** A PostgreSQL server for the scratch database (autogenerate of the PostgreSQL chain). */
  readonly url?: string;
  /** Hears about autogenerate's warnings and skipped dialects. */
  readonly onWarning?: (message: string) => void;
}

/** What was written. */
export interface ReviseResult {
  /**
   * The migration files written, one per dialect with changes, each with its new revision ID
   * (empty when autogenerate found no differences anywhere).
   */
  readonly files: readonly { dialect: DialectName; path: string; revision: string }[];
  /** The notes file the entry was prepended to (untouched when no file was written). */
  readonly notes: string;
  /** The notes entry's title (the message). */
  readonly title: string;
}

/** A template of the project's own (`templates/` beside the migrations root), else strata's. */
function readTemplate(location: ProjectLocation, ext: "ts" | "sql"): string {
  const name = `migration.${ext}.tmpl`;
  if (!location.embedded) {
    const own = readTextFileIfExists(path.join(path.dirname(location.dir), "templates", name));
    if (own !== null) return own;
  }
  const builtIn = embeddedFiles?.get(`templates/${name}`)?.text ??
    readTextFileIfExists(new URL(`../templates/${name}`, import.meta.url).pathname);
  if (builtIn === null) throw new Error(`Cannot find the migration template ${name}`);
  return builtIn;
}

async function prepare(options: ReviseOptions) {
  const location = locateProject({ dir: options.dir, notes: options.notes });
  if (location.embedded) {
    throw new Error(
      "Cannot create revisions in the chains embedded in the binary: pass --dir with your project",
    );
  }
  const chains = {} as Record<DialectName, Chain>;
  for (const dialect of DIALECTS) chains[dialect] = await loadProjectChain(location, dialect);
  const ext: "ts" | "sql" = options.sql ? "sql" : "ts";
  return {
    location,
    chains,
    scaffold: {
      chains: { sqlite: chains.sqlite.graph, postgresql: chains.postgresql.graph },
      dirs: { sqlite: chains.sqlite.dir, postgresql: chains.postgresql.dir },
      message: options.message,
      date: options.date ?? new Date(),
      dialects: options.dialects,
      ext,
      template: readTemplate(location, ext),
    },
  };
}

const NOTES_PREAMBLE = "Migration notes: " +
  "each schema change, newest first, with its revision in each dialect's chain.";

async function write(location: ProjectLocation, result: ScaffoldResult): Promise<ReviseResult> {
  for (const file of result.files) await writeTextFile(file.path, file.content);
  const existing = readTextFileIfExists(location.notes);
  const doc = existing === null ? { preamble: NOTES_PREAMBLE, entries: [] } : parseNotes(existing);
  await writeTextFile(location.notes, formatNotes(prependEntry(doc, result.entry)));
  return {
    files: result.files.map((f) => ({ dialect: f.dialect, path: f.path, revision: f.revision })),
    notes: location.notes,
    title: result.entry.title,
  };
}

/** Create a new revision in each selected chain (see the module note). */
export async function createRevision(options: RevisionOptions): Promise<ReviseResult> {
  const { location, chains, scaffold } = await prepare(options);
  if (!options.autogenerate) return await write(location, scaffoldRevision(scaffold));

  const upgrades: Partial<Record<DialectName, string>> = {};
  const downgrades: Partial<Record<DialectName, string>> = {};
  const withChanges: DialectName[] = [];
  const loaded = await loadDefinition({ location, schemaPath: options.schema });
  if ("skipped" in loaded) throw new Error(`Cannot autogenerate: ${loaded.skipped}`);
  for (const dialect of options.dialects ?? DIALECTS) {
    const serverUrl = options.url && dialectOfUrl(options.url) === "postgresql"
      ? options.url
      : undefined;
    if (dialect === "postgresql" && !serverUrl) {
      throw new Error(
        "Cannot autogenerate the postgresql chain without a server: pass --url postgresql://... " +
          "(a scratch database is created there and dropped), or --dialect sqlite",
      );
    }
    const replica = await headReplica(chains[dialect], serverUrl);
    try {
      const generated = await autogenerate({
        connection: replica.connection,
        definition: loaded.definition,
        dialect,
      });
      for (const w of [...generated.upgradeWarnings, ...generated.downgradeWarnings]) {
        options.onWarning?.(`${dialect}: ${w}`);
      }
      if (generated.empty) {
        options.onWarning?.(`${dialect}: no differences from the schema definition, no file`);
        continue;
      }
      withChanges.push(dialect);
      // What no operation can express stays in the file, where the author will see it.
      const body = (ops: typeof generated.upgrade, warnings: readonly string[]) =>
        [
          ...warnings.map((w) => `  // TODO(strata autogenerate): ${w}`),
          ...renderOperations(ops, 1),
        ].join("\n");
      upgrades[dialect] = body(generated.upgrade, generated.upgradeWarnings);
      downgrades[dialect] = body(generated.downgrade, generated.downgradeWarnings);
    } finally {
      await replica.dispose();
    }
  }
  if (withChanges.length === 0) {
    return { files: [], notes: location.notes, title: options.message };
  }
  return await write(
    location,
    scaffoldRevision({ ...scaffold, dialects: withChanges, upgrades, downgrades }),
  );
}

/** Merge heads (or the given revisions) of each selected chain into one revision. */
export async function createMerge(
  options: ReviseOptions & { revisions?: readonly string[] },
): Promise<ReviseResult> {
  const { location, scaffold } = await prepare(options);
  const targets = options.revisions && options.revisions.length > 0 ? options.revisions : ["heads"];
  const revisions: Partial<Record<DialectName, readonly string[]>> = {};
  for (const dialect of options.dialects ?? DIALECTS) revisions[dialect] = targets;
  return await write(location, scaffoldMerge({ ...scaffold, revisions }));
}
