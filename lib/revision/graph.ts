/**
 * The revision graph of one dialect's chain, with Alembic's semantics.
 *
 * Built from `Revision` records (never files), it knows heads, bases, branch and merge points,
 * `dependsOn` edges and branch labels, validates the chain (duplicates, missing parents,
 * cycles), resolves targets the way `alembic upgrade/downgrade` does (`head`, `heads`, `base`,
 * IDs and prefixes, `label@head`, `-1`, `+2`, `rev+1`, `head-2`, ranges `from:to`), and selects
 * the revisions an upgrade or downgrade runs, in Alembic's order. The version-table bookkeeping
 * of each step lives in `lib/runner/plan.ts`.
 *
 * Alembic concepts used throughout (names follow `alembic/script/revision.py`):
 * - parents ("versioned down revisions"): `downRevisions`;
 * - normalised down revisions: parents plus those `dependsOn` targets that no ancestor already
 *   depends on; these are what the version table tracks;
 * - `heads`: revisions no other revision names as a parent; "real heads" (the `heads` target)
 *   additionally excludes revisions something depends on.
 *
 * @module
 */

import type { Revision } from "./revision.ts";

/** What kind of graph problem a `RevisionError` reports. */
export type RevisionErrorKind =
  | "duplicate-revision"
  | "missing-parent"
  | "missing-dependency"
  | "self-reference"
  | "cycle"
  | "label-conflict"
  | "multiple-heads"
  | "unknown-revision"
  | "ambiguous-prefix"
  | "invalid-target"
  | "not-ancestor"
  | "unknown-current"
  | "overlapping-current";

/** The shared empty list of nodes without dependencies (never pushed to). */
const NONE: string[] = Object.freeze([]) as unknown as string[];

/** A problem with the revision graph or with a target resolved against it. */
export class RevisionError extends Error {
  /** What went wrong, for callers that react differently (exit codes, suggestions). */
  readonly kind: RevisionErrorKind;
  /** The revision IDs involved. */
  readonly revisions: readonly string[];
  /** The files involved (paths of the revisions, when known). */
  readonly files: readonly string[];
  /**
   * Reports a graph problem.
   *
   * @param kind What went wrong.
   * @param message The full message, `Cannot <action>: <state>`.
   * @param revisions The revision IDs involved.
   * @param files The files involved.
   */
  constructor(
    kind: RevisionErrorKind,
    message: string,
    revisions: readonly string[] = [],
    files: readonly string[] = [],
  ) {
    super(message);
    this.name = "RevisionError";
    this.kind = kind;
    this.revisions = Object.freeze([...revisions]);
    this.files = Object.freeze([...files]);
  }
}

interface Node {
  readonly rev: Revision;
  readonly id: string;
  /** Position in the input (file name order): Alembic's tie-breaker between branches. */
  readonly index: number;
  readonly parents: readonly string[];
  /** `dependsOn` resolved to revision IDs (labels replaced by their revision). */
  deps: string[];
  /** `deps` minus those an ancestor already depends on. */
  normDeps: string[];
  /** Parents then normalised deps, deduplicated: the edges the version table follows. */
  normDown: readonly string[];
  /** Parents then all deps, deduplicated. */
  allDown: readonly string[];
  /** Revisions naming this one as a parent. */
  children: string[];
  /** Revisions naming this one as a parent or a dependency. */
  allChildren: string[];
  /** Branch labels, own and inherited (null: none, saving a Set per revision). */
  labels: Set<string> | null;
}

/** A position while walking relative steps: a revision, "before the first" (null), or base. */
type Position = Node | null | "base";

const NO_LABELS: ReadonlySet<string> = new Set();

const RELATIVE = /^(?:(.+?)@)?(\w+)?([+-]\d+)$/;

function quoteList(ids: Iterable<string>): string {
  return [...ids].join(", ");
}

/**
 * An empty target (`downgrade ""`, typically an unset shell variable) or an empty revision
 * after a branch label (`label@`). Only the sides of a `from:to` range may be empty, and
 * whoever splits the range names their meaning (`base`, `heads`) before resolving.
 */
function emptyTarget(id: string, label: string | null): RevisionError {
  return new RevisionError(
    "invalid-target",
    label === null
      ? `Cannot resolve '${id}': the target is empty; name a revision, head, heads or base`
      : `Cannot resolve '${label}@${id}': no revision after '@'; use '${label}@head' or '${label}@<revision>'`,
  );
}

/**
 * The revision graph of one chain.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { RevisionGraph } from "./graph.ts";
 * import type { Revision } from "./revision.ts";
 * const rev = (revision: string, down: string[]): Revision => ({
 *   revision, downRevisions: down, branchLabels: [], dependsOn: [], message: "", path: revision,
 *   filename: revision, timestamp: null, slug: "", warnings: [], checksum: "",
 *   upgrade: { kind: "sql", statements: [], transactional: true }, downgrade: null,
 * });
 * const graph = new RevisionGraph([rev("aaaa1111", []), rev("bbbb2222", ["aaaa1111"])]);
 * ok(graph.heads[0] === "bbbb2222");
 * ok(graph.resolve("head-1")[0].revision === "aaaa1111");
 * ```
 */
export class RevisionGraph {
  readonly #nodes = new Map<string, Node>();
  readonly #order: Node[] = [];
  /** label -> the revision that declares it. */
  readonly #labelOwners = new Map<string, Node>();
  readonly #heads: string[];
  readonly #realHeads: string[];
  readonly #bases: string[];
  #branchPoints?: string[];
  #mergePoints?: string[];

  /** Build and validate a graph; throws `RevisionError` for an inconsistent chain. */
  constructor(revisions: readonly Revision[]) {
    for (const rev of revisions) {
      const file = rev.path || rev.filename;
      if (rev.downRevisions.includes(rev.revision)) {
        throw new RevisionError(
          "self-reference",
          `Cannot build the revision graph: ${rev.revision} (${file}) names itself as its down revision`,
          [rev.revision],
          [file],
        );
      }
      if (rev.dependsOn.includes(rev.revision)) {
        throw new RevisionError(
          "self-reference",
          `Cannot build the revision graph: ${rev.revision} (${file}) depends on itself`,
          [rev.revision],
          [file],
        );
      }
      const existing = this.#nodes.get(rev.revision);
      if (existing) {
        throw new RevisionError(
          "duplicate-revision",
          `Cannot build the revision graph: revision ${rev.revision} is declared by both ${existing.rev.path} and ${file}; give one of them a new ID`,
          [rev.revision],
          [existing.rev.path, file],
        );
      }
      const node: Node = {
        rev,
        id: rev.revision,
        index: this.#order.length,
        parents: rev.downRevisions.length < 2 ? rev.downRevisions : [...new Set(rev.downRevisions)],
        // Most revisions have no dependencies: share one empty array instead of allocating
        // four per node (long chains spend their time in the garbage collector otherwise).
        deps: rev.dependsOn.length === 0 ? NONE : [],
        normDeps: NONE,
        normDown: NONE,
        allDown: NONE,
        children: [],
        allChildren: [],
        labels: rev.branchLabels.length === 0 ? null : new Set(rev.branchLabels),
      };
      this.#nodes.set(rev.revision, node);
      this.#order.push(node);
    }
    for (const node of this.#order) {
      for (const label of node.rev.branchLabels) {
        const owner = this.#labelOwners.get(label) ?? this.#nodes.get(label);
        if (owner && owner !== node) {
          throw new RevisionError(
            "label-conflict",
            `Cannot build the revision graph: branch label '${label}' of ${node.id} (${node.rev.path}) is already used by revision ${owner.id} (${owner.rev.path})`,
            [node.id, owner.id],
            [node.rev.path, owner.rev.path],
          );
        }
        this.#labelOwners.set(label, node);
      }
    }
    for (const node of this.#order) {
      for (const parent of node.parents) {
        if (!this.#nodes.has(parent)) {
          throw new RevisionError(
            "missing-parent",
            `Cannot build the revision graph: ${node.id} (${node.rev.path}) has down revision ${parent}, which is not in the chain; restore that file or fix the down revision`,
            [node.id, parent],
            [node.rev.path],
          );
        }
      }
      for (const dep of node.rev.dependsOn) {
        const target = this.#nodes.get(dep) ?? this.#labelOwners.get(dep);
        if (!target) {
          throw new RevisionError(
            "missing-dependency",
            `Cannot build the revision graph: ${node.id} (${node.rev.path}) depends on ${dep}, which is neither a revision nor a branch label of the chain`,
            [node.id, dep],
            [node.rev.path],
          );
        }
        if (target === node) {
          throw new RevisionError(
            "self-reference",
            `Cannot build the revision graph: ${node.id} (${node.rev.path}) depends on itself through label '${dep}'`,
            [node.id],
            [node.rev.path],
          );
        }
        if (!node.deps.includes(target.id)) node.deps.push(target.id);
      }
      node.allDown = node.deps.length === 0
        ? node.parents
        : [...new Set([...node.parents, ...node.deps])];
      for (const down of node.allDown) {
        const parentNode = this.#nodes.get(down)!;
        parentNode.allChildren.push(node.id);
        if (node.parents.includes(down)) parentNode.children.push(node.id);
      }
    }
    this.#detectCycles();
    this.#normaliseDependencies();
    this.#heads = this.#order.filter((n) => n.children.length === 0).map((n) => n.id);
    this.#realHeads = this.#order.filter((n) => n.allChildren.length === 0).map((n) => n.id);
    this.#bases = this.#order.filter((n) => n.parents.length === 0).map((n) => n.id);
    this.#inheritLabels();
  }

  #detectCycles(): void {
    // Kahn's algorithm over parent and dependency edges; whatever is left sits on or above a
    // cycle. Walking left-over parents from any left-over node must revisit a node: the cycle.
    const pending = new Map<string, number>();
    const ready: Node[] = [];
    for (const node of this.#order) {
      pending.set(node.id, node.allDown.length);
      if (node.allDown.length === 0) ready.push(node);
    }
    let done = 0;
    while (ready.length > 0) {
      const node = ready.pop()!;
      done++;
      for (const child of node.allChildren) {
        const left = pending.get(child)! - 1;
        pending.set(child, left);
        if (left === 0) ready.push(this.#nodes.get(child)!);
      }
    }
    if (done === this.#order.length) return;
    let node = this.#order.find((n) => pending.get(n.id)! > 0)!;
    const seen: string[] = [];
    while (!seen.includes(node.id)) {
      seen.push(node.id);
      node = this.#nodes.get(node.allDown.find((id) => pending.get(id)! > 0)!)!;
    }
    const cycle = seen.slice(seen.indexOf(node.id)).reverse();
    const files = cycle.map((id) => this.#nodes.get(id)!.rev.path);
    throw new RevisionError(
      "cycle",
      `Cannot build the revision graph: revisions form a cycle: ${
        [...cycle, cycle[0]].join(" -> ")
      } (files: ${files.join(", ")})`,
      cycle,
      files,
    );
  }

  #normaliseDependencies(): void {
    // Like Alembic: a dependency that an ancestor (through parents) already declares is implied
    // and dropped; one that is itself an ancestor is kept (it changes nothing for ordering).
    for (const node of this.#order) {
      if (node.deps.length > 0) {
        const implied = new Set<string>();
        for (const id of this.#walk([node.id], (n) => n.parents)) {
          if (id !== node.id) { for (const dep of this.#nodes.get(id)!.deps) implied.add(dep); }
        }
        node.normDeps = node.deps.filter((dep) => !implied.has(dep));
      }
      node.normDown = node.normDeps.length === 0
        ? node.parents
        : [...new Set([...node.parents, ...node.normDeps])];
    }
  }

  #inheritLabels(): void {
    // A label belongs to its revision's whole branch: every descendant (through parents), and
    // the ancestors back to the nearest branch point or merge point. Alembic starts the
    // downward walk from an arbitrary last descendant; strata starts it from the labelled
    // revision itself, which is the same whenever the branch above it does not fork.
    for (const owner of new Set(this.#labelOwners.values())) {
      const labels = owner.rev.branchLabels;
      for (const id of this.#walk([owner.id], (n) => n.children)) {
        const node = this.#nodes.get(id)!;
        node.labels ??= new Set();
        for (const label of labels) node.labels.add(label);
      }
      let node: Node | undefined = owner;
      while (node && node.allChildren.length <= 1 && node.parents.length <= 1) {
        node.labels ??= new Set();
        for (const label of labels) node.labels.add(label);
        node = node.parents.length === 1 ? this.#nodes.get(node.parents[0]) : undefined;
      }
    }
  }

  /** Every node reachable from `start` through `next`, `start` included. */
  #walk(start: Iterable<string>, next: (node: Node) => readonly string[]): Set<string> {
    const seen = new Set<string>();
    const todo = [...start];
    while (todo.length > 0) {
      const id = todo.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const other of next(this.#nodes.get(id)!)) if (!seen.has(other)) todo.push(other);
    }
    return seen;
  }

  #node(id: string): Node {
    const node = this.#nodes.get(id);
    if (!node) {
      throw new RevisionError(
        "unknown-revision",
        `Cannot find revision ${id}: it is not in the chain`,
        [id],
      );
    }
    return node;
  }

  // ---------------------------------------------------------------- structure

  /** Number of revisions. */
  get size(): number {
    return this.#order.length;
  }

  /** All revisions in input order (file name order when loaded by `loadChain`). */
  get revisions(): readonly Revision[] {
    return this.#order.map((n) => n.rev);
  }

  /** The revision with exactly this ID, if any. */
  get(id: string): Revision | undefined {
    return this.#nodes.get(id)?.rev;
  }

  /** True when the chain has a revision with exactly this ID. */
  has(id: string): boolean {
    return this.#nodes.has(id);
  }

  /** Revisions that no revision names as a parent (what `alembic heads` lists), input order. */
  get heads(): readonly string[] {
    return this.#heads;
  }

  /**
   * Heads that nothing depends on either: what the `heads` target upgrades to (a head that
   * another branch depends on is reached through that dependency).
   */
  get realHeads(): readonly string[] {
    return this.#realHeads;
  }

  /** Revisions without parents, input order. */
  get bases(): readonly string[] {
    return this.#bases;
  }

  /** Revisions with two or more children. */
  get branchPoints(): readonly string[] {
    return this.#branchPoints ??= this.#order.filter((n) => n.children.length > 1).map((n) => n.id);
  }

  /** Revisions with two or more parents. */
  get mergePoints(): readonly string[] {
    return this.#mergePoints ??= this.#order.filter((n) => n.parents.length > 1).map((n) => n.id);
  }

  /** IDs of the revisions naming `id` as a parent. */
  children(id: string): readonly string[] {
    return this.#node(id).children;
  }

  /** IDs of the revisions naming `id` in `dependsOn` (directly or through a label). */
  dependents(id: string): readonly string[] {
    const node = this.#node(id);
    return node.allChildren.filter((c) => !node.children.includes(c));
  }

  /** `dependsOn` of `id` resolved to revision IDs. */
  dependencies(id: string): readonly string[] {
    return this.#node(id).deps;
  }

  /** Branch labels of `id`, declared or inherited along its branch. */
  branchLabels(id: string): ReadonlySet<string> {
    return this.#node(id).labels ?? NO_LABELS;
  }

  /**
   * Parents plus the dependencies no ancestor already declares: the revisions whose
   * version-table rows applying `id` replaces.
   */
  normalizedDownRevisions(id: string): readonly string[] {
    return this.#node(id).normDown;
  }

  /** `ids` and all their ancestors (through dependencies too unless told otherwise). */
  ancestors(ids: Iterable<string>, options: { includeDependencies?: boolean } = {}): Set<string> {
    const deps = options.includeDependencies ?? true;
    return this.#walk(
      [...ids].map((id) => this.#node(id).id),
      (n) => deps ? n.normDown : n.parents,
    );
  }

  /** `ids` and all their descendants (through dependencies too unless told otherwise). */
  descendants(ids: Iterable<string>, options: { includeDependencies?: boolean } = {}): Set<string> {
    const deps = options.includeDependencies ?? true;
    return this.#walk(
      [...ids].map((id) => this.#node(id).id),
      (n) => deps ? n.allChildren : n.children,
    );
  }

  /** True when `ancestor` is `id` or one of its ancestors (dependencies included). */
  isAncestor(ancestor: string, id: string): boolean {
    return this.ancestors([id]).has(ancestor);
  }

  /** Every revision, newest first, in `alembic history` order. */
  history(): Revision[] {
    return this.#topologicalSort(new Set(this.#nodes.keys()), this.#realHeads).map((id) =>
      this.#nodes.get(id)!.rev
    );
  }

  /**
   * The revisions of a range `from:to` (either side may be empty: base and heads), newest
   * first, `from` included, as `alembic history -r from:to` lists them. Without a colon, the
   * single resolved target and its ancestors.
   */
  historyRange(range: string): Revision[] {
    const colon = range.indexOf(":");
    const lowerText = colon < 0 ? "base" : range.slice(0, colon).trim() || "base";
    const upperText = colon < 0 ? range.trim() : range.slice(colon + 1).trim() || "heads";
    const targets = this.#parseUpgradeTarget([], upperText);
    const required = this.#walk(targets.map((n) => n.id), (n) => n.normDown);
    const lower = this.#revisionsFor(lowerText);
    for (const node of lower) {
      if (!required.has(node.id)) {
        throw new RevisionError(
          "not-ancestor",
          `Cannot list history ${range}: ${node.id} is not an ancestor of ${upperText}`,
          [node.id],
          [node.rev.path],
        );
      }
    }
    let needs = required;
    if (lower.length > 0) {
      const below = this.#walk(lower.map((n) => n.id), (n) => n.normDown);
      const above = this.#walk(lower.map((n) => n.id), (n) => n.children);
      needs = new Set(
        [...required].filter((id) =>
          (!below.has(id) || lower.some((n) => n.id === id)) && above.has(id)
        ),
      );
    }
    return this.#topologicalSort(needs, targets.map((n) => n.id)).map((id) =>
      this.#nodes.get(id)!.rev
    );
  }

  // ---------------------------------------------------------------- resolution

  /**
   * Resolve a target without database state: `head`, `heads`, `base` (no revisions), a full ID,
   * a unique prefix of at least 4 characters, a branch label, `label@head`, `label@base`,
   * `rev@head`, `label@rev`, and steps relative to a revision (`head-2`, `rev+1`, `label@-1`).
   * Relative steps from the database's state (`-1`, `+2`) need `currentHeads`. An empty or
   * blank target is refused with a `RevisionError`, here and in `upgradeRevisions` and
   * `downgradeRevisions`: whoever splits a `from:to` range names its empty sides (`base`,
   * `heads`) first.
   */
  resolve(target: string, currentHeads: readonly string[] = []): Revision[] {
    return this.#parseUpgradeTarget(this.#currentNodes(currentHeads), target).map((n) => n.rev);
  }

  /** Like `resolve`, for a target that must name one revision (or base: null). */
  resolveOne(target: string, currentHeads: readonly string[] = []): Revision | null {
    const found = this.resolve(target, currentHeads);
    if (found.length > 1) {
      throw new RevisionError(
        "multiple-heads",
        `Cannot resolve '${target}': it names ${found.length} revisions (${
          quoteList(found.map((r) => r.revision))
        }); name one of them`,
        found.map((r) => r.revision),
        found.map((r) => r.path),
      );
    }
    return found[0] ?? null;
  }

  /** Validate database heads: all known, none an ancestor of another. */
  #currentNodes(currentHeads: readonly string[]): Node[] {
    const unknown = currentHeads.filter((id) => !this.#nodes.has(id));
    if (unknown.length > 0) {
      throw new RevisionError(
        "unknown-current",
        `Cannot plan from the database's current revision${unknown.length > 1 ? "s" : ""} ${
          quoteList(unknown)
        }: not in this chain; check --dir and the dialect, or correct the version table with 'strata stamp'`,
        unknown,
      );
    }
    const nodes = [...new Set(currentHeads)].map((id) => this.#nodes.get(id)!);
    if (nodes.length > 1) {
      for (const node of nodes) {
        const below = this.#walk(node.normDown, (n) => n.normDown);
        const overlapping = nodes.filter((other) => below.has(other.id));
        if (overlapping.length > 0) {
          throw new RevisionError(
            "overlapping-current",
            `Cannot plan from the database's current revisions: ${
              quoteList(overlapping.map((n) => n.id))
            } ${
              overlapping.length > 1 ? "are ancestors" : "is an ancestor"
            } of ${node.id}; correct the version table with 'strata stamp'`,
            [node.id, ...overlapping.map((n) => n.id)],
          );
        }
      }
    }
    return nodes;
  }

  #multipleHeads(heads: readonly string[], target: string): RevisionError {
    return new RevisionError(
      "multiple-heads",
      `Cannot resolve '${target}': the chain has ${heads.length} heads (${
        quoteList(heads)
      }); name one of them, use 'heads', or run 'strata merge heads' to join them`,
      heads,
      heads.map((id) => this.#nodes.get(id)!.rev.path),
    );
  }

  /** Ancestors and descendants (parents only) of `id` include one of `against`. */
  #sharesLineage(id: string, against: readonly string[]): boolean {
    if (against.length === 0) return true;
    const set = new Set(against);
    if (set.has(id)) return true;
    for (const other of this.#walk([id], (n) => n.children)) if (set.has(other)) return true;
    for (const other of this.#walk([id], (n) => n.parents)) if (set.has(other)) return true;
    return false;
  }

  /** IDs a lineage check compares with: the revision a label or ID stands for. */
  #lineageOf(checkAgainst: string): string[] {
    const at = checkAgainst.indexOf("@");
    const label = at < 0 ? null : checkAgainst.slice(0, at);
    const rest = at < 0 ? checkAgainst : checkAgainst.slice(at + 1);
    const ids = this.#symbolicIds(rest, label);
    return [...(label ? [this.#resolveBranch(label).id] : []), ...ids.map((n) => n.id)];
  }

  #filterForLineage(ids: readonly string[], checkAgainst: string): string[] {
    const against = this.#lineageOf(checkAgainst);
    return ids.filter((id) => this.#sharesLineage(id, against));
  }

  #resolveBranch(label: string): Node {
    const owner = this.#labelOwners.get(label);
    if (owner) return owner;
    try {
      return this.#revisionForIdent(label, null);
    } catch (error) {
      if (error instanceof RevisionError && error.kind === "unknown-revision") {
        throw new RevisionError(
          "unknown-revision",
          `Cannot resolve branch '${label}': no branch label or revision of that name; see 'strata branches'`,
          [label],
        );
      }
      throw error;
    }
  }

  #revisionForIdent(id: string, label: string | null): Node {
    const branch = label ? this.#resolveBranch(label) : null;
    let node = this.#nodes.get(id) ?? this.#labelOwners.get(id);
    if (!node) {
      if (id.length < 4) {
        throw new RevisionError(
          "unknown-revision",
          `Cannot resolve revision '${id}': no such revision or branch label (a prefix needs at least 4 characters)`,
          [id],
        );
      }
      let candidates = this.#order.filter((n) => n.id.startsWith(id));
      if (branch) candidates = candidates.filter((n) => this.#sharesLineage(n.id, [branch.id]));
      if (candidates.length === 0) {
        throw new RevisionError(
          "unknown-revision",
          `Cannot resolve revision '${id}': no such revision or branch label in the chain; see 'strata history'`,
          [id],
        );
      }
      if (candidates.length > 1) {
        throw new RevisionError(
          "ambiguous-prefix",
          `Cannot resolve revision '${id}': the prefix matches ${candidates.length} revisions (${
            quoteList(candidates.map((n) => n.id))
          }); give more characters`,
          candidates.map((n) => n.id),
          candidates.map((n) => n.rev.path),
        );
      }
      node = candidates[0];
    }
    if (branch && !this.#sharesLineage(node.id, [branch.id])) {
      throw new RevisionError(
        "invalid-target",
        `Cannot resolve '${label}@${id}': revision ${node.id} is not on branch '${label}'`,
        [node.id],
        [node.rev.path],
      );
    }
    return node;
  }

  #currentHead(label: string | null): Node | null {
    let heads: readonly string[] = this.#heads;
    if (label) {
      this.#resolveBranch(label); // an unknown label gets the branch-specific message
      heads = this.#filterForLineage(heads, label);
    }
    if (heads.length > 1) throw this.#multipleHeads(heads, label ? `${label}@head` : "head");
    return heads.length === 1 ? this.#nodes.get(heads[0])! : null;
  }

  /** Symbolic names without relative steps: `heads`, `head`, `base`, or an identifier. */
  #symbolicIds(id: string, label: string | null): Node[] {
    if (id === "heads") {
      if (label) this.#resolveBranch(label);
      const heads = label ? this.#filterForLineage(this.#heads, label) : this.#realHeads;
      return heads.map((h) => this.#nodes.get(h)!);
    }
    if (id === "head") {
      const head = this.#currentHead(label);
      return head ? [head] : [];
    }
    if (id === "base") return [];
    if (id.trim() === "") throw emptyTarget(id, label);
    return [this.#revisionForIdent(id, label)];
  }

  /** Alembic's `get_revisions` for one identifier string. */
  #revisionsFor(target: string): Node[] {
    const at = target.indexOf("@");
    const label = at < 0 ? null : target.slice(0, at);
    const id = at < 0 ? target : target.slice(at + 1);
    if (/^-\d+$/.test(id)) {
      let heads = this.#realHeads.map((h) => this.#nodes.get(h)!);
      if (label) heads = heads.filter((h) => h.labels?.has(label));
      return heads.map((h) =>
        this.#positionToNode(this.#walkSteps(h, Number(id), null, true), target)
      )
        .filter((n): n is Node => n !== null);
    }
    return this.#symbolicIds(id, label);
  }

  /** Alembic's `get_revision`: one identifier that must name at most one revision. */
  #revisionFor(target: string): Node | null {
    const found = this.#revisionsFor(target);
    if (found.length > 1) {
      throw this.#multipleHeads(found.map((n) => n.id), target);
    }
    return found[0] ?? null;
  }

  #positionToNode(position: Position | undefined, target: string): Node | null {
    if (position === undefined) {
      throw new RevisionError("invalid-target", `Cannot resolve '${target}': walked too far`);
    }
    return position === "base" ? null : position;
  }

  /**
   * Walk `steps` up (children) or down (parents). Returns undefined when the walk leaves the
   * chain and `noOverwalk` is set; otherwise stops at the edge.
   */
  #walkSteps(
    start: Position,
    steps: number,
    label: string | null,
    noOverwalk: boolean,
  ): Position | undefined {
    let position = start;
    for (let i = 0; i < Math.abs(steps); i++) {
      let next: Position[];
      if (steps > 0) {
        if (position === "base") next = [];
        else {
          const ids = position === null ? this.#bases : position.children;
          next = (label ? this.#filterForLineage(ids, label) : ids).map((id) =>
            this.#nodes.get(id)!
          );
        }
      } else {
        if (position === "base") next = [];
        else {
          const ids = position === null ? this.#heads : position.parents;
          next = ids.length === 0 ? ["base"] : ids.map((id) => this.#nodes.get(id)!);
        }
      }
      if (next.length === 0) return noOverwalk ? undefined : position;
      if (next.length > 1) {
        const here = position === null ? "base" : position === "base" ? "base" : position.id;
        const options = next.map((n) => (n === null || n === "base" ? "base" : n.id));
        throw new RevisionError(
          "invalid-target",
          `Cannot walk ${steps > 0 ? "up" : "down"} from ${here}: it has ${next.length} ${
            steps > 0 ? "children" : "parents"
          } (${quoteList(options)}); name the target revision instead`,
          options,
        );
      }
      position = next[0];
    }
    return position;
  }

  #relativeFailed(target: string): RevisionError {
    return new RevisionError(
      "invalid-target",
      `Cannot resolve '${target}': there are not that many revisions in that direction`,
    );
  }

  /** The revisions an upgrade to `target` ends at (Alembic's `_parse_upgrade_target`). */
  #parseUpgradeTarget(current: readonly Node[], target: string): Node[] {
    const match = RELATIVE.exec(target);
    if (!match) return this.#revisionsFor(target);
    const [, label = null, symbol, relativeText] = match;
    const relative = Number(relativeText);
    if (relative > 0) {
      if (symbol === undefined) {
        let starts: Position[] = current.length > 0 ? [...current] : [null];
        if (label) {
          const onBranch = this.#filterForLineage(current.map((n) => n.id), label);
          if (onBranch.length > 0) starts = onBranch.map((id) => this.#nodes.get(id)!);
          else {
            // The branch has no current head: start from the tip of what is applied of it.
            const applied = this.#filterForLineage(
              [...this.#walk(current.map((n) => n.id), (n) => n.normDown)],
              label,
            );
            const below = new Set(applied.flatMap((id) => this.#nodes.get(id)!.normDown));
            const tips = applied.filter((id) => !below.has(id));
            starts = tips.length > 0 ? tips.map((id) => this.#nodes.get(id)!) : [null];
          }
        }
        if (starts.length > 1) {
          throw new RevisionError(
            "invalid-target",
            `Cannot resolve '${target}': the database has ${starts.length} heads (${
              quoteList(starts.map((n) => (n as Node).id))
            }); say which branch, e.g. '${
              (starts[0] as Node).id
            }+${relative}' or 'label@+${relative}'`,
            starts.map((n) => (n as Node).id),
          );
        }
        const end = this.#walkSteps(starts[0], relative, label, true);
        if (end === undefined) throw this.#relativeFailed(target);
        const node = this.#positionToNode(end, target);
        return node ? [node] : [];
      }
      const end = this.#walkSteps(this.#revisionFor(symbol), relative, label, true);
      if (end === undefined) throw this.#relativeFailed(target);
      const node = this.#positionToNode(end, target);
      return node ? [node] : [];
    }
    if (symbol === undefined) {
      throw new RevisionError(
        "invalid-target",
        `Cannot upgrade to '${target}': a negative step from the current revision is a downgrade; use 'strata downgrade ${target}'`,
      );
    }
    const start = this.#revisionFor(label ? `${label}@${symbol}` : symbol);
    const end = this.#walkSteps(start, relative, null, true);
    if (end === undefined) throw this.#relativeFailed(target);
    const node = this.#positionToNode(end, target);
    return node ? [node] : [];
  }

  /** Alembic's `_parse_downgrade_target`: the branch label (if any) and the target (null: base). */
  #parseDowngradeTarget(
    current: readonly Node[],
    target: string,
  ): { label: string | null; target: Node | null } {
    const match = RELATIVE.exec(target);
    if (match) {
      let [, label = null, symbol] = match;
      const relative = Number(match[3]);
      if (relative >= 0) {
        if (symbol === undefined) {
          throw new RevisionError(
            "invalid-target",
            `Cannot downgrade to '${target}': a positive step from the current revision is an upgrade; use 'strata upgrade ${target}'`,
          );
        }
        const end = this.#walkSteps(this.#revisionFor(symbol), relative, label, true);
        if (end === undefined) throw this.#relativeFailed(target);
        return { label, target: this.#positionToNode(end, target) };
      }
      const fromCurrent = symbol === undefined;
      if (fromCurrent) {
        if (label) {
          let onBranch = this.#filterForLineage(current.map((n) => n.id), label);
          if (onBranch.length === 0) {
            const all = this.#walk(current.map((n) => n.id), (n) => n.normDown);
            const tips = [...all].filter((id) =>
              !this.#nodes.get(id)!.children.some((c) => all.has(c))
            );
            onBranch = this.#filterForLineage(tips, label);
          }
          if (onBranch.length !== 1) {
            throw new RevisionError(
              "invalid-target",
              `Cannot resolve '${target}': ${
                onBranch.length === 0 ? "no" : String(onBranch.length)
              } current revisions are on branch '${label}'`,
              onBranch,
            );
          }
          symbol = onBranch[0];
        } else {
          if (current.length === 0) {
            throw new RevisionError(
              "invalid-target",
              `Cannot downgrade '${target}': the database is at base, there is nothing to downgrade`,
            );
          }
          if (current.length > 1) {
            // Alembic warns and picks whichever row the database returned first; the result
            // would depend on row order, so strata asks for the branch instead.
            throw new RevisionError(
              "invalid-target",
              `Cannot resolve '${target}': the database has ${current.length} heads (${
                quoteList(current.map((n) => n.id))
              }); name the branch, e.g. '${current[0].id}@${target}', or a target revision`,
              current.map((n) => n.id),
            );
          }
          symbol = current[0].id;
          label = symbol;
        }
      }
      const start = label === null
        ? this.#revisionFor(symbol!)
        : this.#revisionFor(`${label}@${symbol}`);
      const end = this.#walkSteps(start, relative, null, true);
      if (end === undefined) throw this.#relativeFailed(target);
      return { label, target: this.#positionToNode(end, target) };
    }
    const at = target.lastIndexOf("@");
    const label = at <= 0 ? null : target.slice(0, at);
    return { label, target: this.#revisionFor(target) };
  }

  /**
   * The revisions `upgrade target` applies from `currentHeads`, oldest first (the order they
   * run). Throws `RevisionError` for unknown current heads or a bad target.
   */
  upgradeRevisions(currentHeads: readonly string[], target: string): Revision[] {
    const current = this.#currentNodes(currentHeads);
    const targets = this.#parseUpgradeTarget(current, target);
    const required = this.#walk(targets.map((n) => n.id), (n) => n.normDown);
    const applied = this.#walk(current.map((n) => n.id), (n) => n.normDown);
    const needs = applied.size === 0
      ? required
      : new Set([...required].filter((id) => !applied.has(id)));
    return this.#topologicalSort(needs, targets.map((n) => n.id)).reverse().map((id) =>
      this.#nodes.get(id)!.rev
    );
  }

  /**
   * The revisions `downgrade target` unapplies from `currentHeads`, newest first (the order
   * they run). Throws `RevisionError` for unknown current heads or a target that is not below
   * the current state.
   */
  downgradeRevisions(currentHeads: readonly string[], target: string): Revision[] {
    const current = this.#currentNodes(currentHeads);
    const parsed = this.#parseDowngradeTarget(current, target);
    let roots: string[];
    if (parsed.target === null) {
      roots = this.#bases.slice();
    } else {
      roots = parsed.target.children.slice();
    }
    if (parsed.label && roots.length > 1) {
      const onBranch = this.#walk([this.#resolveBranch(parsed.label).id], (n) => n.parents);
      roots = roots.filter((id) => onBranch.has(id));
      if (roots.length === 0) {
        throw new RevisionError(
          "invalid-target",
          `Cannot downgrade to '${target}': it is not below the current heads on branch '${parsed.label}'`,
        );
      }
    }
    const dropped = this.#walk(roots, (n) => n.allChildren);
    const active = this.#walk(current.map((n) => n.id), (n) => n.normDown);
    const drop = new Set([...dropped].filter((id) => active.has(id)));
    if (parsed.target && drop.size === 0 && !current.includes(parsed.target)) {
      throw new RevisionError(
        "not-ancestor",
        `Cannot downgrade to '${target}': ${parsed.target.id} is not below the current revision${
          current.length === 1 ? "" : "s"
        } (${
          current.map((n) => n.id).join(", ") || "base"
        }); see 'strata current' and 'strata history'`,
        [parsed.target.id],
        [parsed.target.rev.path],
      );
    }
    return this.#topologicalSort(drop, current.map((n) => n.id)).map((id) =>
      this.#nodes.get(id)!.rev
    );
  }

  /**
   * Order `todo` newest first so every revision comes before its parents and dependencies.
   * Follows Alembic's `_topological_sort`: walk down one branch from the first head (input
   * order) for as long as no other pending head still needs the current revision, then
   * switch to the head that does; this emits whole branches together.
   */
  #topologicalSort(todo: Set<string>, heads: readonly string[]): string[] {
    const pending = todo; // callers pass a set of their own; it is consumed
    const ancestorsOf = (id: string) => this.#walk([id], (n) => n.normDown);
    const current = [...new Set(heads.filter((h) => pending.has(h)))]
      .sort((a, b) => this.#nodes.get(a)!.index - this.#nodes.get(b)!.index);
    // ancestors[i] is ancestorsOf(current[i]), computed only once another head needs it: a
    // single line (the common case) never pays for it.
    const ancestors: (Set<string> | null)[] = current.map(() => null);
    const output: string[] = [];
    let index = 0;
    while (current.length > 0) {
      const candidate = current[index];
      let blocked = false;
      if (current.length > 1) {
        for (let other = 0; other < current.length; other++) {
          if (other === index) continue;
          const set = ancestors[other] ??= ancestorsOf(current[other]);
          if (set.has(candidate)) {
            index = other;
            blocked = true;
            break;
          }
        }
      }
      if (blocked) continue;
      if (pending.delete(candidate)) output.push(candidate);
      const node = this.#nodes.get(candidate)!;
      const next = node.normDown.filter((id) => pending.has(id) && !current.includes(id));
      if (next.length === 0) {
        current.splice(index, 1);
        ancestors.splice(index, 1);
        index = Math.max(index - 1, 0);
      } else if (node.normDeps.length === 0 && node.parents.length === 1) {
        // Plain movement down a line: the head's ancestor set only loses the emitted revision.
        current[index] = next[0];
        ancestors[index]?.delete(candidate);
      } else {
        current[index] = next[0];
        ancestors[index] = null;
        for (const id of next.slice(1)) {
          current.push(id);
          ancestors.push(null);
        }
      }
    }
    if (pending.size > 0) {
      // Only reachable if a pending revision is not below any head: a bug, not user input.
      throw new Error(
        `Cannot order revisions: ${quoteList(pending)} are not below the heads ${quoteList(heads)}`,
      );
    }
    return output;
  }
}
