/**
 * Plans: the steps between the database's current heads and a target, with the exact
 * `alembic_version` rows each step deletes and inserts.
 *
 * The graph (`lib/revision/graph.ts`) chooses which revisions run and in what order; this
 * module replays Alembic's version-table bookkeeping (its `HeadMaintainer`) over them, so a
 * database managed by Alembic and one managed by strata hold the same rows after the same
 * commands. Pure: no I/O.
 *
 * @module
 */

import { RevisionError, type RevisionGraph } from "../revision/graph.ts";
import type { Revision } from "../revision/revision.ts";

/** One migration to run and the version-table change that goes with it. */
export interface PlanStep {
  /** The migration to run. */
  readonly revision: Revision;
  /** `up` runs its upgrade, `down` its downgrade. */
  readonly direction: "up" | "down";
  /** `alembic_version` rows deleted by this step. */
  readonly removeVersions: readonly string[];
  /** `alembic_version` rows inserted by this step. */
  readonly addVersions: readonly string[];
}

function bookkeeping(
  graph: RevisionGraph,
  currentHeads: readonly string[],
  revisions: readonly Revision[],
  direction: "up" | "down",
): PlanStep[] {
  const heads = new Set(currentHeads);
  const steps: PlanStep[] = [];
  // Rows a step replaces are the revision's normalised down revisions (parents plus
  // dependencies), minus any that another remaining head still stands on.
  // With no other head, a downgrade still skips those that lie below another restored one.
  const notBelowOthers = (ids: readonly string[], except: readonly string[]) => {
    const others = [...heads].filter((h) => !except.includes(h));
    if (others.length > 0) {
      const below = graph.ancestors(others);
      return ids.filter((id) => !below.has(id));
    }
    // One revision is never its own strict ancestor: skip the walk (keeps long chains linear).
    if (direction === "up" || ids.length < 2) return [...ids];
    const below = new Set<string>();
    for (const id of ids) {
      for (const a of graph.ancestors(graph.normalizedDownRevisions(id))) below.add(a);
    }
    return ids.filter((id) => !below.has(id));
  };
  for (const revision of revisions) {
    const id = revision.revision;
    const down = graph.normalizedDownRevisions(id);
    let remove: string[] = [];
    let add: string[] = [];
    if (direction === "up") {
      const present = down.filter((d) => heads.has(d));
      if (present.length === 0) {
        // A base, or a branch whose parent rows are covered by another head: a new row.
        add = [id];
      } else if (down.length > 1 && present.length > 1) {
        // Merge: the parents' rows collapse into one, except parents another head still needs.
        remove = notBelowOthers(down, down).filter((d) => heads.has(d));
        add = [id];
      } else {
        remove = present.slice(0, 1);
        add = [id];
      }
    } else {
      if (!heads.has(id)) {
        throw new RevisionError(
          "invalid-target",
          `Cannot plan the downgrade of ${id}: it is not a current head (${
            [...heads].join(", ") || "base"
          })`,
          [id],
          [revision.path],
        );
      }
      const restore = down.length === 0 ? [] : notBelowOthers(down, [id]);
      remove = [id];
      add = restore;
    }
    for (const r of remove) heads.delete(r);
    for (const a of add) heads.add(a);
    steps.push(
      Object.freeze({
        revision,
        direction,
        removeVersions: Object.freeze(remove),
        addVersions: Object.freeze(add),
      }),
    );
  }
  return steps;
}

/**
 * The steps `strata upgrade target` runs from `currentHeads` (the `alembic_version` rows),
 * in order. Throws `RevisionError` when a current head is not in the graph or the target
 * does not resolve.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { RevisionGraph } from "../revision/graph.ts";
 * import { planUpgrade } from "./plan.ts";
 * import type { Revision } from "../revision/revision.ts";
 * const rev = (revision: string, down: string[]): Revision => ({
 *   revision, downRevisions: down, branchLabels: [], dependsOn: [], message: "", path: revision,
 *   filename: revision, timestamp: null, slug: "", warnings: [], checksum: "",
 *   upgrade: { kind: "sql", statements: [], transactional: true }, downgrade: null,
 * });
 * const graph = new RevisionGraph([rev("aaaa", []), rev("bbbb", ["aaaa"])]);
 * const steps = planUpgrade(graph, ["aaaa"], "head");
 * ok(steps[0].removeVersions[0] === "aaaa" && steps[0].addVersions[0] === "bbbb");
 * ```
 */
export function planUpgrade(
  graph: RevisionGraph,
  currentHeads: readonly string[],
  target: string,
): PlanStep[] {
  return bookkeeping(graph, currentHeads, graph.upgradeRevisions(currentHeads, target), "up");
}

/**
 * The steps `strata downgrade target` runs from `currentHeads`, in order (newest first).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { RevisionGraph } from "../revision/graph.ts";
 * import { planDowngrade } from "./plan.ts";
 * import type { Revision } from "../revision/revision.ts";
 * const rev = (revision: string, down: string[]): Revision => ({
 *   revision, downRevisions: down, branchLabels: [], dependsOn: [], message: "", path: revision,
 *   filename: revision, timestamp: null, slug: "", warnings: [], checksum: "",
 *   upgrade: { kind: "sql", statements: [], transactional: true }, downgrade: null,
 * });
 * const graph = new RevisionGraph([rev("aaaa", []), rev("bbbb", ["aaaa"])]);
 * const steps = planDowngrade(graph, ["bbbb"], "base");
 * ok(steps.length === 2 && steps[1].addVersions.length === 0);
 * ```
 */
export function planDowngrade(
  graph: RevisionGraph,
  currentHeads: readonly string[],
  target: string,
): PlanStep[] {
  return bookkeeping(graph, currentHeads, graph.downgradeRevisions(currentHeads, target), "down");
}

/**
 * The version-table change of `strata stamp target`: no migration runs. Without `purge`, each
 * target revision replaces the current heads on its lineage (ancestors or descendants) and
 * leaves other branches alone, like `alembic stamp`; `base` removes every row. With `purge`,
 * every current row goes, which also works when the table holds unknown revisions.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { RevisionGraph } from "../revision/graph.ts";
 * import { planStamp } from "./plan.ts";
 * import type { Revision } from "../revision/revision.ts";
 * const rev = (revision: string, down: string[]): Revision => ({
 *   revision, downRevisions: down, branchLabels: [], dependsOn: [], message: "", path: revision,
 *   filename: revision, timestamp: null, slug: "", warnings: [], checksum: "",
 *   upgrade: { kind: "sql", statements: [], transactional: true }, downgrade: null,
 * });
 * const graph = new RevisionGraph([rev("aaaa", []), rev("bbbb", ["aaaa"])]);
 * const change = planStamp(graph, ["aaaa"], "head", { purge: false });
 * ok(change.remove[0] === "aaaa" && change.add[0] === "bbbb");
 * ```
 */
export function planStamp(
  graph: RevisionGraph,
  currentHeads: readonly string[],
  target: string,
  options: { purge?: boolean } = {},
): { remove: string[]; add: string[] } {
  const current = [...new Set(currentHeads)];
  if (options.purge) {
    return { remove: current, add: graph.resolve(target).map((r) => r.revision) };
  }
  const unknown = current.filter((id) => !graph.has(id));
  if (unknown.length > 0) {
    throw new RevisionError(
      "unknown-current",
      `Cannot stamp from the database's current revision${unknown.length > 1 ? "s" : ""} ${
        unknown.join(", ")
      }: not in this chain; use 'strata stamp --purge ${target}' to replace every row`,
      unknown,
    );
  }
  const targets = graph.resolve(target, current).map((r) => r.revision);
  if (targets.length === 0) return { remove: current, add: [] };
  const remove = new Set<string>();
  const add: string[] = [];
  for (const id of targets) {
    if (current.includes(id)) continue;
    const lineage = new Set([...graph.ancestors([id]), ...graph.descendants([id])]);
    for (const head of current) if (lineage.has(head)) remove.add(head);
    if (!add.includes(id)) add.push(id);
  }
  return { remove: [...remove], add };
}
