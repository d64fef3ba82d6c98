/**
 * `strata check`: everything CI should know before a deploy, in one report.
 *
 * Problems (exit 3): a chain that does not load (cycles, missing parents, unparseable files),
 * a chain with several heads, notes that do not verify, applied migrations whose files changed
 * or that were left partly applied (when a database URL is given), and drift between the
 * schema definition and the chains' heads (autogenerate would write something). Warnings
 * (reported, exit 0): irregular filenames and the notes' timestamp mismatches.
 *
 * @module
 */

import { openExisting } from "./db/open.ts";
import { dialectOfUrl, redactUrl } from "./db/url.ts";
import { findLogProblems } from "./migrate.ts";
import {
  type Chain,
  loadProjectChain,
  locateProject,
  MissingChainError,
  readNotes,
} from "./project.ts";
import { parseNotes, verifyNotes } from "./revision/notes.ts";
import { type DialectName, DIALECTS } from "./revision/revision.ts";
import { readVersions } from "./runner/runner.ts";
import { checkDrift } from "./autogen/drift.ts";

/** One line of a check report. */
export interface CheckFinding {
  /**
   * What was checked: the chain's files and graph, its heads, the notes, the database's
   * applied migrations, or drift from the schema definition.
   */
  readonly area: "chain" | "heads" | "notes" | "database" | "drift";
  /** The chain concerned; absent for findings about both (the notes). */
  readonly dialect?: DialectName;
  /** What is wrong, and where there is one, the remedy. */
  readonly message: string;
}

/** What `check` found. */
export interface CheckReport {
  /** True when there are no problems (warnings and skipped checks do not count). */
  readonly clean: boolean;
  /** Findings that fail the check (`strata check` exits 3). */
  readonly problems: readonly CheckFinding[];
  /** Findings reported without failing: irregular file names, notes timestamp mismatches. */
  readonly warnings: readonly CheckFinding[];
  /** Checks that could not run, and why (e.g. PostgreSQL drift without a server). */
  readonly skipped: readonly CheckFinding[];
}

/** Options of {@link check}. */
export interface CheckOptions {
  /** Migrations root holding `sqlite/` and `postgresql/` (default `./migrations`, or embedded). */
  readonly dir?: string;
  /** The notes file (default `MIGRATION-NOTES.md` beside the migrations root). */
  readonly notes?: string;
  /** A database whose applied migrations are checked (and, for PostgreSQL, the server drift
   * replicas are built on). */
  readonly url?: string;
  /** Alembic's version table in the database at `url` (default `alembic_version`). */
  readonly versionTable?: string;
  /** The schema definition (default: `schema.ts` beside the migrations root). */
  readonly schema?: string;
  /** Skip the drift check (autogenerate comparison). */
  readonly noDrift?: boolean;
}

/** Run every check (see the module note). */
export async function check(options: CheckOptions = {}): Promise<CheckReport> {
  const problems: CheckFinding[] = [];
  const warnings: CheckFinding[] = [];
  const skipped: CheckFinding[] = [];
  const location = locateProject({ dir: options.dir, notes: options.notes });

  const chains = new Map<DialectName, Chain>();
  for (const dialect of DIALECTS) {
    try {
      const chain = await loadProjectChain(location, dialect);
      chains.set(dialect, chain);
      for (const message of chain.warnings) warnings.push({ area: "chain", dialect, message });
      if (chain.graph.heads.length > 1) {
        problems.push({
          area: "heads",
          dialect,
          message: `the ${dialect} chain has ${chain.graph.heads.length} heads (${
            chain.graph.heads.join(", ")
          }): run 'strata merge -m MESSAGE heads --dialect ${dialect}'`,
        });
      }
    } catch (error) {
      // A missing migrations root is bad input (exit 2), not a finding about the chains.
      if (error instanceof MissingChainError) throw error;
      problems.push({ area: "chain", dialect, message: (error as Error).message });
    }
  }

  const notesText = await readNotes(location);
  if (notesText === null) {
    problems.push({ area: "notes", message: `no notes file at ${location.notes}` });
  } else if (chains.size === DIALECTS.length) {
    const findings = verifyNotes(parseNotes(notesText), {
      sqlite: chains.get("sqlite")!.graph,
      postgresql: chains.get("postgresql")!.graph,
    });
    for (const finding of findings) {
      const line = finding.line ? `${location.notes}:${finding.line}: ` : "";
      const entry = {
        area: "notes" as const,
        dialect: finding.dialect,
        message: line + finding.message,
      };
      (finding.severity === "error" ? problems : warnings).push(entry);
    }
  }

  if (options.url) {
    const dialect = dialectOfUrl(options.url);
    const chain = chains.get(dialect);
    if (chain) {
      try {
        const connection = openExisting(options.url);
        try {
          const heads = await readVersions(connection, options.versionTable ?? "alembic_version");
          const unknown = heads.filter((id) => !chain.graph.has(id));
          if (unknown.length > 0) {
            problems.push({
              area: "database",
              dialect,
              message: `${connection.displayUrl} is at ${unknown.join(", ")}, unknown to the chain`,
            });
          }
          for (const message of await findLogProblems(connection, chain, heads)) {
            problems.push({ area: "database", dialect, message });
          }
        } finally {
          await connection.close();
        }
      } catch (error) {
        problems.push({
          area: "database",
          dialect,
          message: `cannot read ${redactUrl(options.url)}: ${(error as Error).message}`,
        });
      }
    }
  }

  if (!options.noDrift) {
    const serverUrl = options.url && dialectOfUrl(options.url) === "postgresql"
      ? options.url
      : undefined;
    for (const [dialect, chain] of chains) {
      if (chain.graph.heads.length === 0 && chain.revisions.length > 0) continue;
      try {
        const drift = await checkDrift({
          location,
          dialect,
          schemaPath: options.schema,
          serverUrl,
        });
        if (drift.skipped) {
          skipped.push({ area: "drift", dialect, message: drift.skipped });
          continue;
        }
        for (const message of drift.differences) problems.push({ area: "drift", dialect, message });
        for (const message of drift.warnings) warnings.push({ area: "drift", dialect, message });
      } catch (error) {
        problems.push({ area: "drift", dialect, message: (error as Error).message });
      }
    }
  }

  return { clean: problems.length === 0, problems, warnings, skipped };
}
