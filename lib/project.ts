/**
 * Where a project's chains and notes are: `--dir` on disk, `./migrations`, or the reference
 * chains embedded in the binary. Builds each dialect's revision graph from its files.
 *
 * @module
 */

import { embeddedFiles } from "./embedded.ts";
import { RevisionGraph } from "./revision/graph.ts";
import type { DialectName, Revision } from "./revision/revision.ts";
import { decodeNotes } from "./revision/notes.ts";
import { loadChain, MigrationFileError, type ScriptSource } from "./revision/script.ts";
import {
  displayPath,
  importModule,
  isDirectory,
  listDir,
  path,
  readFileIfExists,
  readTextFileIfExists,
} from "./runtime.ts";

/** The prefix of embedded paths in output. */
export const EMBEDDED_PREFIX = "embedded:";

/** Where the chains of a project come from. */
export interface ProjectLocation {
  /** The migrations root holding `sqlite/` and `postgresql/`. */
  readonly dir: string;
  /** The notes file. */
  readonly notes: string;
  /** True when the chains are the ones embedded in the binary. */
  readonly embedded: boolean;
}

/** A loaded chain: its revisions and graph, and what loading found. */
export interface Chain {
  readonly dialect: DialectName;
  readonly dir: string;
  readonly revisions: readonly Revision[];
  readonly graph: RevisionGraph;
  readonly warnings: readonly string[];
}

/** Decide where the chains are (see the module note). */
export function locateProject(options: { dir?: string; notes?: string } = {}): ProjectLocation {
  if (options.dir !== undefined) {
    const dir = path.resolve(options.dir);
    return { dir, notes: resolveNotes(options.notes, dir), embedded: false };
  }
  const local = path.resolve("migrations");
  if (isDirectory(local) || embeddedFiles === null) {
    return { dir: local, notes: resolveNotes(options.notes, local), embedded: false };
  }
  return {
    dir: `${EMBEDDED_PREFIX}migrations`,
    notes: options.notes ?? `${EMBEDDED_PREFIX}MIGRATION-NOTES.md`,
    embedded: true,
  };
}

function resolveNotes(notes: string | undefined, dir: string): string {
  return notes !== undefined
    ? path.resolve(notes)
    : path.join(path.dirname(dir), "MIGRATION-NOTES.md");
}

/** Files on disk; `.ts` migrations are imported by the runtime. */
export const diskSource: ScriptSource = {
  listDir: async (dir) => (await listDir(dir)) ?? [],
  // Synchronous: a chain is hundreds of small files, and a promise and a thread-pool round trip
  // per file cost more than the reads themselves.
  readText: (file) => {
    const text = readTextFileIfExists(file);
    return text === null
      ? Promise.reject(new Error(`Cannot read ${file}: it does not exist`))
      : Promise.resolve(text);
  },
  importModule: (file) => importModule(file),
};

/** Files compiled into the binary. */
function embeddedSource(
  files: ReadonlyMap<string, { text: string; module?: Record<string, unknown> }>,
): ScriptSource {
  const strip = (p: string) => p.startsWith(EMBEDDED_PREFIX) ? p.slice(EMBEDDED_PREFIX.length) : p;
  return {
    listDir: (dir) => {
      const prefix = `${strip(dir).replace(/\/$/, "")}/`;
      return Promise.resolve(
        [...files.keys()].filter((f) =>
          f.startsWith(prefix) && !f.slice(prefix.length).includes("/")
        )
          .map((f) => f.slice(prefix.length)),
      );
    },
    readText: (file) => {
      const found = files.get(strip(file));
      return found
        ? Promise.resolve(found.text)
        : Promise.reject(new Error(`No embedded file ${file}`));
    },
    importModule: (file) => {
      const found = files.get(strip(file));
      return found?.module
        ? Promise.resolve(found.module)
        : Promise.reject(new Error(`No embedded module ${file}`));
    },
  };
}

/** The file source of a project. */
export function sourceOf(location: ProjectLocation): ScriptSource {
  return location.embedded && embeddedFiles ? embeddedSource(embeddedFiles) : diskSource;
}

/** Read the notes file's text, or null when it does not exist. */
export async function readNotes(location: ProjectLocation): Promise<string | null> {
  if (location.embedded && embeddedFiles) {
    return embeddedFiles.get(location.notes.slice(EMBEDDED_PREFIX.length))?.text ?? null;
  }
  await Promise.resolve();
  let bytes: Uint8Array | null;
  try {
    bytes = readFileIfExists(location.notes);
  } catch (error) {
    // A directory, no permission: bad input, named (not a raw EISDIR).
    const code = (error as { code?: string }).code;
    throw new MigrationFileError(
      location.notes,
      code === "EISDIR" ? "it is a directory, not a notes file" : (error as Error).message,
    );
  }
  if (bytes === null) return null;
  try {
    // UTF-8 only, as `revision` writes it; a UTF-16 file would read as no entries at all.
    return decodeNotes(bytes);
  } catch (error) {
    throw new MigrationFileError(location.notes, (error as Error).message);
  }
}

/** The directory of a dialect's chain. */
export function chainDir(location: ProjectLocation, dialect: DialectName): string {
  return location.embedded ? `${location.dir}/${dialect}` : path.join(location.dir, dialect);
}

/**
 * A chain's directory does not exist (a mistyped `--dir`, or a root without the dialect's
 * subdirectory): exit code 2, not an empty chain that would make `upgrade` a silent no-op.
 */
export class MissingChainError extends MigrationFileError {
  /**
   * Reports a missing chain directory.
   *
   * @param dir The chain's directory, as shown.
   * @param root The migrations root, as shown.
   * @param rootExists Whether the root itself exists.
   */
  constructor(dir: string, root: string, rootExists: boolean) {
    super(
      dir,
      rootExists
        ? `no such directory: the migrations root ${root} has no ${path.basename(dir)}/ chain`
        : `no such directory: the migrations root ${root} does not exist (--dir names the ` +
          "directory holding sqlite/ and postgresql/)",
    );
    this.name = "MissingChainError";
  }
}

/**
 * Load one dialect's chain and build its graph. A chain directory that does not exist is an
 * empty chain when the migrations root exists (a project may keep one dialect only), and a
 * {@link MissingChainError} when the root is missing too. Options:
 * - `requireChain`: the dialect's directory must exist (the chain a database command runs);
 * - `allowMissing`: an empty chain whatever is missing (`revision`, which creates new chains).
 */
export async function loadProjectChain(
  location: ProjectLocation,
  dialect: DialectName,
  options: { readonly allowMissing?: boolean; readonly requireChain?: boolean } = {},
): Promise<Chain> {
  const dir = chainDir(location, dialect);
  // Load through the path as it should be shown, so records need no copying (a copy would
  // compute every lazy checksum at start-up).
  const shown = location.embedded ? dir : displayPath(dir);
  if (!location.embedded && !options.allowMissing && !isDirectory(dir)) {
    const rootExists = isDirectory(location.dir);
    if (options.requireChain || !rootExists) {
      throw new MissingChainError(shown, displayPath(location.dir), rootExists);
    }
  }
  const { revisions, warnings } = await loadChain(sourceOf(location), shown);
  return {
    dialect,
    dir,
    revisions,
    graph: new RevisionGraph(revisions),
    warnings: warnings.map((w) => w.message),
  };
}
