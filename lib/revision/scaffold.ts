/**
 * Scaffolding for `strata revision` and `strata merge`: which files to write, with what
 * content, and the MIGRATION-NOTES.md entry that pairs them. Pure: the caller reads the
 * template, writes the files and the notes.
 *
 * A change made with `revision` gets one file per dialect, sharing timestamp and slug, each a
 * child of its own chain's head, each with a fresh ID (unique across both chains, so a notes
 * entry never pairs two equal IDs by accident). `merge` joins a chain's heads the same way.
 *
 * @module
 */

import { formatFilename, newRevisionId } from "./filename.ts";
import { RevisionError, type RevisionGraph } from "./graph.ts";
import type { NotesEntry } from "./notes.ts";
import { type DialectName, DIALECTS } from "./revision.ts";

/** One file to create. */
export interface ScaffoldFile {
  readonly dialect: DialectName;
  /** `dir/filename`. */
  readonly path: string;
  readonly filename: string;
  readonly revision: string;
  readonly downRevisions: readonly string[];
  readonly content: string;
}

/** What `scaffoldRevision` and `scaffoldMerge` return. */
export interface ScaffoldResult {
  readonly files: readonly ScaffoldFile[];
  /** The entry to put first in MIGRATION-NOTES.md (`prependEntry`). */
  readonly entry: NotesEntry;
}

/** Options shared by `scaffoldRevision` and `scaffoldMerge`. */
export interface ScaffoldOptions {
  /** Both chains' graphs. */
  readonly chains: Readonly<Record<DialectName, RevisionGraph>>;
  /** Each chain's directory (`<dir>/sqlite`, `<dir>/postgresql`). */
  readonly dirs: Readonly<Record<DialectName, string>>;
  readonly message: string;
  /** Creation time: the filename timestamp (UTC) and `createDate`. */
  readonly date: Date;
  /** Dialects to create files for (default both); the others get `None` in the notes. */
  readonly dialects?: readonly DialectName[];
  readonly ext: "ts" | "sql";
  /** The template text (`templates/migration.<ext>.tmpl`). */
  readonly template: string;
  /** Template text for the bodies, per dialect (autogenerate); a placeholder comment otherwise. */
  readonly upgrades?: Partial<Record<DialectName, string>>;
  readonly downgrades?: Partial<Record<DialectName, string>>;
  /** Random source for IDs (tests). */
  readonly random?: () => number;
}

/**
 * Replace `${name}` placeholders with `values[name]`. Unknown names are left as written, so a
 * template may contain other `${...}` text.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { renderTemplate } from "./scaffold.ts";
 * ok(renderTemplate("id ${revision} ${other}", { revision: "abc" }) === "id abc ${other}");
 * ```
 */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(
    /\$\{(\w+)\}/g,
    (whole, name: string) => Object.hasOwn(values, name) ? values[name] : whole,
  );
}

function joinPath(dir: string, name: string): string {
  if (dir === "" || dir === ".") return name;
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

function templateValues(
  ext: "ts" | "sql",
  dialect: DialectName,
  revision: string,
  parents: readonly string[],
  message: string,
  date: Date,
  upgrades: string | undefined,
  downgrades: string | undefined,
): Record<string, string> {
  if (ext === "ts") {
    // The TS template puts `message` in a string literal and a comment: escape for both.
    const escaped = JSON.stringify(message).slice(1, -1).replace(/\*\//g, "*\\/");
    return {
      dialect,
      revision,
      downRevision: parents.length === 0
        ? "null"
        : parents.length === 1
        ? JSON.stringify(parents[0])
        : JSON.stringify(parents).replace(/","/g, '", "'),
      message: escaped,
      createDate: date.toISOString(),
      upgrades: upgrades ?? "  // await op.addColumn(...), await sql`...`",
      downgrades: downgrades ?? "  // undo the upgrade",
    };
  }
  return {
    dialect,
    revision,
    downRevision: parents.length === 0 ? "none" : parents.join(", "),
    message: message.replace(/\s*[\r\n]+\s*/g, " "),
    createDate: date.toISOString(),
    upgrades: upgrades ?? "",
    downgrades: downgrades ?? "",
  };
}

function build(
  options: ScaffoldOptions,
  parentsFor: (dialect: DialectName) => readonly string[],
  dialects: readonly DialectName[],
): ScaffoldResult {
  const taken = new Set<string>();
  for (const dialect of DIALECTS) {
    for (const rev of options.chains[dialect].revisions) taken.add(rev.revision);
  }
  const files: ScaffoldFile[] = [];
  const ids: Partial<Record<DialectName, string>> = {};
  for (const dialect of DIALECTS) {
    if (!dialects.includes(dialect)) continue;
    const parents = parentsFor(dialect);
    const revision = newRevisionId(taken, options.random);
    taken.add(revision);
    ids[dialect] = revision;
    const filename = formatFilename({
      date: options.date,
      revision,
      message: options.message,
      ext: options.ext,
    });
    const values = templateValues(
      options.ext,
      dialect,
      revision,
      parents,
      options.message,
      options.date,
      options.upgrades?.[dialect],
      options.downgrades?.[dialect],
    );
    files.push({
      dialect,
      path: joinPath(options.dirs[dialect], filename),
      filename,
      revision,
      downRevisions: parents,
      content: renderTemplate(options.template, values),
    });
  }
  return {
    files,
    entry: {
      title: options.message,
      sqlite: ids.sqlite ?? null,
      postgresql: ids.postgresql ?? null,
      body: "",
    },
  };
}

function selectedDialects(options: ScaffoldOptions): readonly DialectName[] {
  const dialects = options.dialects ?? DIALECTS;
  if (dialects.length === 0) {
    throw new RangeError("Cannot create a revision: no dialect selected");
  }
  if (options.message.trim() === "") {
    throw new RangeError("Cannot create a revision: the message is empty; pass -m MESSAGE");
  }
  return dialects;
}

/**
 * The files and notes entry for `strata revision -m MESSAGE [--dialect D]`: one new revision
 * per selected dialect, each a child of its chain's head (a base for an empty chain). A chain
 * with several heads is an error that suggests `strata merge`.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { scaffoldRevision } from "./scaffold.ts";
 * import { RevisionGraph } from "./graph.ts";
 * const empty = new RevisionGraph([]);
 * const { files, entry } = scaffoldRevision({
 *   chains: { sqlite: empty, postgresql: empty },
 *   dirs: { sqlite: "migrations/sqlite", postgresql: "migrations/postgresql" },
 *   message: "Create flow table",
 *   date: new Date(Date.UTC(2026, 10, 21, 14, 30, 5)),
 *   ext: "sql",
 *   template: "-- revision: ${revision}\n-- down_revision: ${downRevision}\n-- migrate:up\n",
 * });
 * ok(files.length === 2 && entry.sqlite === files[0].revision);
 * ok(files[0].filename.startsWith("2026_11_21_143005_"));
 * ```
 */
export function scaffoldRevision(options: ScaffoldOptions): ScaffoldResult {
  const dialects = selectedDialects(options);
  return build(options, (dialect) => {
    const graph = options.chains[dialect];
    const heads = graph.heads;
    if (heads.length > 1) {
      throw new RevisionError(
        "multiple-heads",
        `Cannot create a revision for the ${dialect} chain: it has ${heads.length} heads (${
          heads.join(", ")
        }); run 'strata merge -m MESSAGE heads --dialect ${dialect}' first`,
        heads,
        heads.map((id) => graph.get(id)!.path),
      );
    }
    return heads.slice();
  }, dialects);
}

/** Options of `scaffoldMerge`: which revisions to merge in each chain (default: its heads). */
export interface MergeOptions extends ScaffoldOptions {
  readonly revisions?: Partial<Record<DialectName, readonly string[]>>;
}

/**
 * The files and notes entry for `strata merge -m MESSAGE [REVS...|heads]`: per selected
 * dialect, a revision whose parents are the given revisions (resolved as targets, so
 * prefixes and `label@head` work) or the chain's heads. Fewer than two distinct revisions to
 * merge is an error; without `dialects`, a chain that has a single head is skipped.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { scaffoldMerge } from "./scaffold.ts";
 * import { RevisionGraph } from "./graph.ts";
 * import type { Revision } from "./revision.ts";
 * const rev = (revision: string, down: string[]): Revision => ({
 *   revision, downRevisions: down, branchLabels: [], dependsOn: [], message: "", path: revision,
 *   filename: revision, timestamp: null, slug: "", warnings: [], checksum: "",
 *   upgrade: { kind: "sql", statements: [], transactional: true }, downgrade: null,
 * });
 * const forked = new RevisionGraph([rev("aaaa", []), rev("bbbb", ["aaaa"]), rev("cccc", ["aaaa"])]);
 * const { files, entry } = scaffoldMerge({
 *   chains: { sqlite: forked, postgresql: new RevisionGraph([rev("dddd", [])]) },
 *   dirs: { sqlite: "s", postgresql: "p" },
 *   message: "Merge heads",
 *   date: new Date(),
 *   ext: "sql",
 *   template: "-- down_revision: ${downRevision}\n",
 * });
 * ok(files.length === 1 && files[0].content === "-- down_revision: bbbb, cccc\n");
 * ok(entry.postgresql === null);
 * ```
 */
export function scaffoldMerge(options: MergeOptions): ScaffoldResult {
  selectedDialects(options);
  const explicit = options.dialects !== undefined;
  const parents: Partial<Record<DialectName, string[]>> = {};
  for (const dialect of options.dialects ?? DIALECTS) {
    const graph = options.chains[dialect];
    const targets = options.revisions?.[dialect] ?? ["heads"];
    const ids = [
      ...new Set(
        targets.flatMap((t) =>
          t === "heads" ? [...graph.heads] : graph.resolve(t).map((r) => r.revision)
        ),
      ),
    ];
    if (ids.length < 2) {
      if (!explicit && options.revisions?.[dialect] === undefined) continue;
      throw new RevisionError(
        "invalid-target",
        `Cannot merge the ${dialect} chain: ${
          ids.length === 0 ? "no revisions" : `only ${ids[0]}`
        } to merge; a merge needs two or more heads or revisions`,
        ids,
      );
    }
    for (const a of ids) {
      const below = ids.find((b) => b !== a && graph.isAncestor(a, b));
      if (below) {
        throw new RevisionError(
          "invalid-target",
          `Cannot merge the ${dialect} chain: ${a} is an ancestor of ${below}; merge heads, not a revision and its descendant`,
          [a, below],
        );
      }
    }
    parents[dialect] = ids;
  }
  const dialects = DIALECTS.filter((d) => parents[d] !== undefined);
  if (dialects.length === 0) {
    throw new RevisionError(
      "invalid-target",
      "Cannot merge: every chain has a single head; there is nothing to merge",
    );
  }
  return build(options, (dialect) => parents[dialect]!, dialects);
}
