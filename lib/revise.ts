/**
 * `strata revision` and `strata merge` as a library: write the new migration files of both
 * chains (one timestamp and slug, a new ID each) and prepend the notes entry.
 *
 * The notes file is read, checked and its new text made before any migration file is written:
 * a notes file that cannot be read, is not UTF-8, or would not take the new entry cleanly (see
 * `insertEntry`) is a {@link NotesFileError} and nothing is written. The entry is inserted into
 * the file's text, whose other bytes are kept; the file is replaced atomically (a new file
 * beside it, renamed over it). Should that fail, the migration files this call wrote are
 * removed again.
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
import { OptionError } from "./migrate.ts";
import { decodeNotes, insertEntry, type NotesEntry } from "./revision/notes.ts";
import { type DialectName, DIALECTS } from "./revision/revision.ts";
import { scaffoldMerge, type ScaffoldResult, scaffoldRevision } from "./revision/scaffold.ts";
import { headReplica } from "./runner/replica.ts";
import * as fs from "node:fs";
import { displayPath, path, pid, readTextFileIfExists, removeFile } from "./runtime.ts";

/**
 * A notes file that cannot be read, or that strata will not rewrite (not UTF-8, or the new entry
 * would not read back cleanly). Nothing was written. Exit code 2 on the command line, as for
 * other bad input.
 */
export class NotesFileError extends OptionError {
  /** Reports a problem with the notes file; the message names the file. */
  constructor(message: string, options?: ErrorOptions) {
    super(message);
    this.name = "NotesFileError";
    if (options && "cause" in options) this.cause = options.cause;
  }
}

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
    throw new OptionError(
      "Cannot create revisions in the chains embedded in the binary: pass --dir with your project",
    );
  }
  const chains = {} as Record<DialectName, Chain>;
  // A chain directory that does not exist yet is an empty chain: revision starts new chains.
  for (const dialect of DIALECTS) {
    chains[dialect] = await loadProjectChain(location, dialect, { allowMissing: true });
  }
  const ext: "ts" | "sql" = options.sql ? "sql" : "ts";
  // The notes first: a notes file that will not take the entry stops the command before any
  // work (autogenerate's replicas) and before any file is written.
  notesWithEntry(location, { title: options.message, sqlite: null, postgresql: null, body: "" });
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

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The notes file's text, or null when there is none; read errors name the file. */
function readNotesFile(file: string): string | null {
  let bytes: Uint8Array;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) {
      const what = stat.isDirectory() ? "a directory" : "not a regular file";
      throw new NotesFileError(`Cannot read notes ${displayPath(file)}: it is ${what}`);
    }
    bytes = fs.readFileSync(file);
  } catch (error) {
    if (error instanceof NotesFileError) throw error;
    if ((error as { code?: string }).code === "ENOENT") return null;
    throw new NotesFileError(`Cannot read notes ${displayPath(file)}: ${errorText(error)}`, {
      cause: error,
    });
  }
  try {
    return decodeNotes(bytes);
  } catch (error) {
    throw new NotesFileError(`Cannot read notes ${displayPath(file)}: ${errorText(error)}`);
  }
}

/**
 * The notes file's new text with `entry` added (a new file starts with a preamble), after
 * checking that the file can be written. Writes nothing.
 */
function notesWithEntry(location: ProjectLocation, entry: NotesEntry): string {
  const file = location.notes;
  const existing = readNotesFile(file);
  let text: string;
  try {
    text = insertEntry(existing ?? `${NOTES_PREAMBLE}\n`, entry);
  } catch (error) {
    throw new NotesFileError(
      `Cannot add an entry to notes ${displayPath(file)}: ${errorText(error)}`,
    );
  }
  try {
    // The file, or the nearest directory that exists on the way to it.
    let target = file;
    while (existing === null && !fs.existsSync(target) && path.dirname(target) !== target) {
      target = path.dirname(target);
    }
    fs.accessSync(target, fs.constants.W_OK);
  } catch (error) {
    throw new NotesFileError(`Cannot write notes ${displayPath(file)}: ${errorText(error)}`, {
      cause: error,
    });
  }
  return text;
}

/** Create a file that must not exist; a failed write leaves no file behind. */
function createNewFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, "wx");
  try {
    fs.writeFileSync(fd, text);
  } catch (error) {
    fs.closeSync(fd);
    removeFile(file);
    throw error;
  }
  fs.closeSync(fd);
}

/**
 * Replace a file's text atomically: a new file beside it (the real file, when it is a symlink)
 * with the same permissions, flushed, then renamed over it. A failure leaves the file as it was.
 */
function replaceFile(file: string, text: string): void {
  const existing = fs.existsSync(file) ? fs.realpathSync(file) : null;
  const target = existing ?? file;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${pid()}.strata-tmp`);
  try {
    const fd = fs.openSync(temp, "wx");
    try {
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (existing !== null) fs.chmodSync(temp, fs.statSync(existing).mode & 0o7777);
    fs.renameSync(temp, target);
  } catch (error) {
    try {
      removeFile(temp);
    } catch { /* the error that matters is the first one */ }
    throw error;
  }
}

/**
 * Write the new migration files and the notes: the notes are read, checked and their new text
 * made first, the files written next, and the notes last; if the notes cannot be written, the
 * files written here are removed.
 */
function write(location: ProjectLocation, result: ScaffoldResult): ReviseResult {
  const notesText = notesWithEntry(location, result.entry);
  const written: string[] = [];
  const removeWritten = () => {
    for (const file of written) {
      try {
        removeFile(file);
      } catch { /* reported below with the files that are left */ }
    }
    const left = written.filter((file) => fs.existsSync(file));
    return left.length === 0
      ? written.length === 0 ? "" : "; the new migration files were removed"
      : `; remove the new migration files by hand: ${left.map(displayPath).join(", ")}`;
  };
  for (const file of result.files) {
    try {
      createNewFile(file.path, file.content);
    } catch (error) {
      const removed = removeWritten();
      throw new Error(`Cannot write ${displayPath(file.path)}: ${errorText(error)}${removed}`, {
        cause: error,
      });
    }
    written.push(file.path);
  }
  try {
    replaceFile(location.notes, notesText);
  } catch (error) {
    const removed = removeWritten();
    throw new Error(
      `Cannot write notes ${displayPath(location.notes)}: ${errorText(error)}${removed}`,
      { cause: error },
    );
  }
  return {
    files: result.files.map((f) => ({ dialect: f.dialect, path: f.path, revision: f.revision })),
    notes: location.notes,
    title: result.entry.title,
  };
}

/** Create a new revision in each selected chain (see the module note). */
export async function createRevision(options: RevisionOptions): Promise<ReviseResult> {
  const { location, chains, scaffold } = await prepare(options);
  if (!options.autogenerate) return write(location, scaffoldRevision(scaffold));

  const upgrades: Partial<Record<DialectName, string>> = {};
  const downgrades: Partial<Record<DialectName, string>> = {};
  const withChanges: DialectName[] = [];
  const serverUrl = options.url && dialectOfUrl(options.url) === "postgresql"
    ? options.url
    : undefined;
  const dialects = options.dialects ?? DIALECTS;
  if (dialects.includes("postgresql") && !serverUrl) {
    throw new OptionError(
      "Cannot autogenerate the postgresql chain without a server: pass --url postgresql://... " +
        "(a scratch database is created there and dropped), or --dialect sqlite",
    );
  }
  const loaded = await loadDefinition({ location, schemaPath: options.schema });
  if ("skipped" in loaded) throw new OptionError(`Cannot autogenerate: ${loaded.skipped}`);
  for (const dialect of dialects) {
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
  return write(
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
  return write(location, scaffoldMerge({ ...scaffold, revisions }));
}
