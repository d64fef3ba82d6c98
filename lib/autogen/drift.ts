/**
 * Drift between a chain and the schema definition, for `strata check`: the chain replayed to
 * its head (in memory on SQLite, in a scratch database on PostgreSQL) is compared with
 * `schema.ts`. A clean result means the migrations build exactly what the definition
 * describes; each difference is what `strata revision --autogenerate` would write.
 *
 * The definition is `schema.ts` beside the migrations root (`<dir>/../schema.ts`) unless a
 * path is given. Where there is nothing to compare with (a binary whose embedded chains
 * carry no definition, a project without `schema.ts`, PostgreSQL without a server) the
 * result says `skipped` and why, rather than failing: those are facts about the setup, not
 * drift.
 *
 * @module
 */

import { embeddedFiles } from "../embedded.ts";
import { EMBEDDED_PREFIX, loadProjectChain, type ProjectLocation } from "../project.ts";
import type { DialectName } from "../revision/revision.ts";
import { headReplica } from "../runner/replica.ts";
import { displayPath, importModule, path, readTextFileIfExists } from "../runtime.ts";
import { type AutogenerateOptions, compare, type DefinitionSource } from "./autogenerate.ts";

/** What {@link checkDrift} takes. */
export interface DriftInput {
  readonly location: ProjectLocation;
  readonly dialect: DialectName;
  /** The definition module; default: `schema.ts` beside the migrations root. */
  readonly schemaPath?: string;
  /** PostgreSQL: a server URL where a scratch database may be created. */
  readonly serverUrl?: string;
  readonly options?: AutogenerateOptions;
}

/** What {@link checkDrift} found. */
export interface DriftResult {
  readonly dialect: DialectName;
  /** True when the chain's head matches the definition (also when skipped). */
  readonly clean: boolean;
  /** One line per difference (`add index ix_flow__name on flow`), in upgrade order. */
  readonly differences: readonly string[];
  /** Differences no operation can express, and warnings from loading the chain. */
  readonly warnings: readonly string[];
  /** Why nothing was compared, when nothing was. */
  readonly skipped?: string;
}

/** The reason given when PostgreSQL has no server to build its replica on. */
export const NO_POSTGRES_SERVER = "no PostgreSQL server (pass --url postgresql://...)";

/** The default definition path of a project on disk: `schema.ts` beside its migrations root. */
export function defaultSchemaPath(location: ProjectLocation): string {
  return path.join(path.dirname(location.dir), "schema.ts");
}

/** A loaded definition, or why there is none. */
export type LoadedDefinition =
  | { readonly definition: DefinitionSource }
  | { readonly skipped: string };

/** A `schema.ts` module as a definition source: its default export. */
function definitionOf(module: Record<string, unknown>): DefinitionSource {
  return { default: module.default };
}

/** The project's schema definition: `schemaPath`, or `schema.ts` beside the migrations root
 * (embedded with the reference chains in the binary), or a reason it has none. */
export async function loadDefinition(
  input: Pick<DriftInput, "location" | "schemaPath">,
): Promise<LoadedDefinition> {
  if (input.schemaPath !== undefined) {
    // Asked for by name: a missing file is an error, not a reason to skip.
    return { definition: definitionOf(await importModule(path.resolve(input.schemaPath))) };
  }
  if (input.location.embedded) {
    const relative = input.location.dir.slice(EMBEDDED_PREFIX.length);
    const key = path.posix.join(path.posix.dirname(relative), "schema.ts");
    const module = embeddedFiles?.get(key)?.module;
    return module ? { definition: definitionOf(module) } : {
      skipped:
        "the embedded reference chains carry no schema.ts (use --dir with a project that has one)",
    };
  }
  const file = defaultSchemaPath(input.location);
  if (readTextFileIfExists(file) === null) {
    return { skipped: `no schema definition at ${displayPath(file)}` };
  }
  return { definition: definitionOf(await importModule(file)) };
}

function skipped(dialect: DialectName, reason: string, warnings: readonly string[] = []) {
  return { dialect, clean: true, differences: [], warnings, skipped: reason };
}

/**
 * Compare the head of a dialect's chain with the schema definition.
 *
 * @example
 * ```ts ignore
 * const result = await checkDrift({ location: locateProject(), dialect: "sqlite" });
 * if (!result.clean) console.log(result.differences.join("\n"));
 * ```
 */
export async function checkDrift(input: DriftInput): Promise<DriftResult> {
  const { dialect } = input;
  const loaded = await loadDefinition(input);
  if ("skipped" in loaded) return skipped(dialect, loaded.skipped);
  const chain = await loadProjectChain(input.location, dialect);
  if (dialect === "postgresql" && !input.serverUrl) {
    return skipped(dialect, NO_POSTGRES_SERVER, chain.warnings);
  }
  const replica = await headReplica(chain, input.serverUrl);
  try {
    const result = await compare({
      connection: replica.connection,
      definition: loaded.definition,
      dialect,
      ...(input.options ? { options: input.options } : {}),
    });
    return {
      dialect,
      clean: result.clean,
      differences: result.differences,
      warnings: [...chain.warnings, ...result.warnings],
    };
  } finally {
    await replica.dispose();
  }
}
