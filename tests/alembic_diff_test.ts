/**
 * Differential test: strata's revision graph and planner against real Alembic.
 *
 * Random DAGs (seeded, so failures reproduce) with branches, merges, several bases,
 * `dependsOn` and branch labels are written as Alembic script directories; one Python process
 * (`tests/support/alembic_oracle.py`) loads them all with Alembic and runs upgrade and
 * downgrade queries against in-memory SQLite, reporting the steps and the `alembic_version`
 * rows after each. strata must agree on heads, bases, labels, `history` order, which queries
 * are refused, and every step with its resulting rows.
 *
 * Needs a Python with Alembic (see `tests/support/alembic.ts`). Without it the test is skipped
 * with a warning, except under CI (`CI` set), where it fails.
 */

import { deepStrictEqual } from "node:assert/strict";
import { RevisionGraph } from "../lib/revision/graph.ts";
import { parseSqlMigration } from "../lib/revision/script.ts";
import type { Revision } from "../lib/revision/revision.ts";
import { planDowngrade, planStamp, planUpgrade } from "../lib/runner/plan.ts";
import { requiredTest } from "./support/requirement.ts";
import { ALEMBIC, PYTHON } from "./support/alembic.ts";

const ORACLE = new URL("./support/alembic_oracle.py", import.meta.url).pathname;
const SEEDS = 60;

/** mulberry32: tiny seeded PRNG, so a failing seed can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Spec {
  id: string;
  down: string[];
  deps: string[];
  labels: string[];
}

export function generate(rand: () => number): Spec[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
  const hex = () => {
    let s = "";
    for (let i = 0; i < 12; i++) s += Math.floor(rand() * 16).toString(16);
    return s;
  };
  const n = 3 + Math.floor(rand() * 16);
  const specs: Spec[] = [];
  const byId = new Map<string, Spec>();
  const ancestors = (ids: string[]) => {
    const seen = new Set<string>();
    const todo = [...ids];
    while (todo.length) {
      const id = todo.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const s = byId.get(id)!;
      todo.push(...s.down, ...s.deps);
    }
    return seen;
  };
  for (let i = 0; i < n; i++) {
    let id = hex();
    while (byId.has(id) || [...byId.keys()].some((k) => k.slice(0, 6) === id.slice(0, 6))) {
      id = hex();
    }
    const heads = specs.filter((s) => !specs.some((o) => o.down.includes(s.id)));
    const r = rand();
    let down: string[];
    if (i === 0 || r < 0.08) down = [];
    else if (r < 0.25 && heads.length >= 2) {
      const count = heads.length >= 3 && rand() < 0.3 ? 3 : 2;
      const chosen = new Set<string>();
      while (chosen.size < count) chosen.add(pick(heads).id);
      down = [...chosen];
      // A merge of revisions where one is below another is not a real merge; skip it.
      if (down.some((a) => down.some((b) => a !== b && ancestors([b]).has(a)))) {
        down = [pick(heads).id];
      }
    } else down = [rand() < 0.6 ? pick(heads).id : pick(specs).id];
    const deps: string[] = [];
    if (i > 1 && rand() < 0.2) {
      const below = ancestors(down);
      const candidates = specs.filter((s) => !below.has(s.id) || rand() < 0.1);
      if (candidates.length) deps.push(pick(candidates).id);
      if (deps.some((d) => down.includes(d))) deps.length = 0;
    }
    const spec = { id, down, deps, labels: rand() < 0.15 ? [`lbl${i}`] : [] };
    specs.push(spec);
    byId.set(id, spec);
  }
  // Alembic spreads a label from an arbitrary last descendant (see graph.ts); keep labels only
  // where that is well defined: the labelled revision's descendants form one unforked line.
  const allChildren = (id: string) =>
    specs.filter((s) => s.down.includes(id) || s.deps.includes(id));
  for (const spec of specs) {
    if (spec.labels.length === 0) continue;
    const line = [spec.id];
    let ok = true;
    for (let at = spec.id; ok;) {
      const kids = allChildren(at);
      if (kids.length > 1) ok = false;
      else if (kids.length === 0) break;
      else {
        if (kids[0].down.length !== 1 || kids[0].deps.length > 0) ok = false;
        at = kids[0].id;
        line.push(at);
      }
    }
    if (!ok) spec.labels = [];
  }
  // Sometimes depend on a branch by label instead of by ID.
  for (const spec of specs) {
    spec.deps = spec.deps.map((d) => {
      const target = byId.get(d)!;
      return target.labels.length && rand() < 0.5 ? target.labels[0] : d;
    });
  }
  return specs;
}

interface Query {
  command: "upgrade" | "downgrade" | "stamp" | "history";
  current: string[];
  target: string;
}

function queriesFor(graph: RevisionGraph, rand: () => number): Query[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
  const ids = graph.revisions.map((r) => r.revision);
  const labels = [...new Set(graph.revisions.flatMap((r) => r.branchLabels))];
  const states: string[][] = [[]];
  for (let i = 0; i < 3; i++) states.push([pick(ids)]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const a = pick(ids);
    const b = pick(ids);
    if (a !== b && !graph.isAncestor(a, b) && !graph.isAncestor(b, a)) {
      states.push([a, b]);
      break;
    }
  }
  states.push([...graph.realHeads]);
  const up = () => {
    const options = [
      "heads",
      "head",
      pick(ids),
      pick(ids).slice(0, 6),
      "+1",
      "+2",
      `${pick(ids)}+1`,
    ];
    options.push("head-1");
    if (labels.length) options.push(`${pick(labels)}@head`, `${pick(labels)}@+1`);
    return pick(options);
  };
  const down = () => {
    const options = ["base", pick(ids), pick(ids).slice(0, 6), "-1", "-2", `${pick(ids)}-1`];
    if (labels.length) options.push(`${pick(labels)}@base`, `${pick(labels)}@-1`);
    return pick(options);
  };
  const queries: Query[] = [];
  for (const current of states) {
    for (let i = 0; i < 3; i++) queries.push({ command: "upgrade", current, target: up() });
    for (let i = 0; i < 3; i++) queries.push({ command: "downgrade", current, target: down() });
    queries.push({
      command: "stamp",
      current,
      target: pick(["heads", "base", pick(ids), pick(ids)]),
    });
  }
  for (let i = 0; i < 4; i++) {
    const lower = pick([pick(ids), pick(ids), "base", ""]);
    const upper = pick([pick(ids), pick(ids), "heads", "", lower === "" ? "head" : pick(ids)]);
    queries.push({ command: "history", current: [], target: `${lower}:${upper}` });
  }
  return queries;
}

function pythonScript(spec: Spec): string {
  const tuple = (ids: string[]) =>
    ids.length === 0
      ? "None"
      : ids.length === 1
      ? `"${ids[0]}"`
      : `(${ids.map((i) => `"${i}"`).join(", ")})`;
  return [
    `revision = "${spec.id}"`,
    `down_revision = ${tuple(spec.down)}`,
    `branch_labels = ${
      spec.labels.length ? `(${spec.labels.map((l) => `"${l}"`).join(", ")},)` : "None"
    }`,
    `depends_on = ${spec.deps.length ? `(${spec.deps.map((l) => `"${l}"`).join(", ")},)` : "None"}`,
    "",
    "def upgrade():",
    "    pass",
    "",
    "def downgrade():",
    "    pass",
    "",
  ].join("\n");
}

function sqlScript(spec: Spec): string {
  return [
    `-- revision: ${spec.id}`,
    `-- down_revision: ${spec.down.length ? spec.down.join(", ") : "none"}`,
    ...(spec.labels.length ? [`-- branch_labels: ${spec.labels.join(", ")}`] : []),
    ...(spec.deps.length ? [`-- depends_on: ${spec.deps.join(", ")}`] : []),
    "-- migrate:up",
    "SELECT 1;",
    "-- migrate:down",
    "SELECT 1;",
    "",
  ].join("\n");
}

type Outcome =
  | { error: string }
  | { rows: string[] }
  | { steps: { revision: string; direction: "up" | "down"; heads: string[] }[] };

/**
 * Alembic before 1.20 (Debian's 1.8, say) breaks ties between independent branches in another
 * order. Against such a version, orders are compared as sets: the same heads, bases and history
 * members, the same steps in each direction, and the same version rows at the end.
 */
function orderFree(outcome: Outcome): Outcome {
  if ("rows" in outcome) return { rows: [...outcome.rows].sort() };
  if (!("steps" in outcome)) return outcome;
  const last = outcome.steps.at(-1)?.heads ?? [];
  return {
    rows: [...outcome.steps.map((s) => `${s.direction} ${s.revision}`).sort(), "=>", ...last],
  };
}

/** Whether `version` (e.g. "1.8.1") is at least 1.20, where the orders were checked. */
export function exactOrders(version: string): boolean {
  const [major, minor] = version.split(".").map(Number);
  return major > 1 || (major === 1 && minor >= 20);
}

function strataOutcome(graph: RevisionGraph, query: Query): Outcome {
  try {
    if (query.command === "history") {
      return { rows: graph.historyRange(query.target).map((r) => r.revision) };
    }
    if (query.command === "stamp") {
      const change = planStamp(graph, query.current, query.target, { purge: false });
      const rows = new Set(query.current);
      for (const id of change.remove) rows.delete(id);
      for (const id of change.add) rows.add(id);
      return { rows: [...rows].sort() };
    }
    const plan = query.command === "upgrade"
      ? planUpgrade(graph, query.current, query.target)
      : planDowngrade(graph, query.current, query.target);
    const heads = new Set(query.current);
    return {
      steps: plan.map((step) => {
        for (const r of step.removeVersions) heads.delete(r);
        for (const a of step.addVersions) heads.add(a);
        return {
          revision: step.revision.revision,
          direction: step.direction,
          heads: [...heads].sort(),
        };
      }),
    };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/**
 * Where strata deliberately differs from Alembic, say so: returns the reason, or null.
 * - `-1`/`-2` from several current heads: Alembic warns and walks down from whichever row the
 *   database returned first; strata refuses and asks for the branch.
 * - `stamp` with several targets (`heads`): for each target Alembic replaces every current
 *   head related to any target, so a head that is itself a target can be deleted and not
 *   re-inserted; strata replaces, per target, only the heads on that target's lineage, and
 *   `stamp heads` always ends at exactly the heads.
 * - A merge (or a dependency) whose normalised down revisions include a revision that is
 *   already below another of them: Alembic tries to delete that revision's version row, which
 *   is not in the table, and fails with a KeyError; strata removes only the rows present.
 */
function deliberateDifference(
  graph: RevisionGraph,
  query: Query,
  strata: Outcome,
  alembic: Outcome,
  exact: boolean,
): string | null {
  if (!exact && query.command === "downgrade" && "rows" in strata && "rows" in alembic) {
    // Order-free outcomes: the steps, "=>", then the rows left.
    const split = (
      rows: string[],
    ) => [rows.slice(0, rows.indexOf("=>")), rows.slice(rows.indexOf("=>") + 1)];
    const [mySteps, myRows] = split(strata.rows);
    const [theirSteps, theirRows] = split(alembic.rows);
    if (
      JSON.stringify(mySteps) === JSON.stringify(theirSteps) &&
      myRows.every((row) => theirRows.includes(row))
    ) return "Alembic before 1.20 keeps a merge's other parent as a row after downgrading it";
  }
  if (
    query.command === "stamp" && query.target === "heads" && "rows" in strata &&
    JSON.stringify(strata.rows) === JSON.stringify([...graph.realHeads].sort())
  ) return "stamp heads ends at exactly the heads in strata; Alembic can drop a current head";
  if (
    "error" in strata && !("error" in alembic) && query.command === "downgrade" &&
    /^-\d+$/.test(query.target) && query.current.length > 1
  ) return "relative downgrade from several heads is refused by strata";
  if (
    "error" in alembic && /^(KeyError|AssertionError)/.test(alembic.error) && !("error" in strata)
  ) {
    return "Alembic crashes (it deletes a version row that is not there) where strata plans";
  }
  return null;
}

requiredTest(
  "alembic differential: graph and plans agree with Alembic on random DAGs",
  ALEMBIC,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "strata_alembic_diff_" });
    try {
      const cases: { dir: string; queries: Query[] }[] = [];
      const graphs: RevisionGraph[] = [];
      for (let seed = 1; seed <= SEEDS; seed++) {
        const rand = prng(seed);
        const specs = generate(rand);
        const dir = `${root}/case${seed}`;
        await Deno.mkdir(`${dir}/versions`, { recursive: true });
        const revisions: Revision[] = [];
        for (let i = 0; i < specs.length; i++) {
          const stem = `2026_01_01_${String(i).padStart(6, "0")}_${specs[i].id}_r${i}`;
          await Deno.writeTextFile(`${dir}/versions/${stem}.py`, pythonScript(specs[i]));
          revisions.push(await parseSqlMigration(sqlScript(specs[i]), `case${seed}/${stem}.sql`));
        }
        const graph = new RevisionGraph(revisions);
        graphs.push(graph);
        cases.push({ dir, queries: queriesFor(graph, rand) });
      }
      const child = new Deno.Command(PYTHON ?? "python3", {
        args: [ORACLE],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(JSON.stringify({ cases })));
      await writer.close();
      const out = await child.output();
      if (!out.success) {
        throw new Error(`Cannot run the Alembic oracle: ${new TextDecoder().decode(out.stderr)}`);
      }
      const oracle = JSON.parse(new TextDecoder().decode(out.stdout)) as {
        alembic: string;
        cases: {
          heads: string[];
          realHeads: string[];
          bases: string[];
          history: string[];
          labels: Record<string, string[]>;
          queries: Outcome[];
        }[];
      };
      const mismatches: string[] = [];
      let compared = 0;
      const deliberate = new Map<string, number>();
      let refusedByBoth = 0;
      const exact = exactOrders(oracle.alembic);
      const order = exact ? <T>(list: T) => list : (list: string[]) => [...list].sort();
      for (let c = 0; c < cases.length; c++) {
        const graph = graphs[c];
        const expected = oracle.cases[c];
        const seed = c + 1;
        const same = (what: string, a: unknown, b: unknown) => {
          if (JSON.stringify(a) !== JSON.stringify(b)) {
            mismatches.push(
              `seed ${seed} ${what}: strata ${JSON.stringify(a)} alembic ${JSON.stringify(b)}`,
            );
          }
        };
        same("heads", order([...graph.heads]), order(expected.heads));
        same("real heads", order([...graph.realHeads]), order(expected.realHeads));
        same("bases", order([...graph.bases]), order(expected.bases));
        same(
          "history",
          order(graph.history().map((r) => r.revision)),
          order(expected.history),
        );
        for (const [id, labels] of Object.entries(expected.labels)) {
          same(`labels of ${id}`, [...graph.branchLabels(id)].sort(), labels);
        }
        cases[c].queries.forEach((query, q) => {
          compared++;
          const mine = exact ? strataOutcome(graph, query) : orderFree(strataOutcome(graph, query));
          const theirs = exact ? expected.queries[q] : orderFree(expected.queries[q]);
          const label = `seed ${seed} ${query.command} ${query.target} from [${query.current}]`;
          const bothRefuse = "error" in mine && "error" in theirs;
          if (bothRefuse || JSON.stringify(mine) === JSON.stringify(theirs)) {
            if (bothRefuse) refusedByBoth++;
            return;
          }
          const reason = deliberateDifference(graph, query, mine, theirs, exact);
          if (reason) {
            deliberate.set(reason, (deliberate.get(reason) ?? 0) + 1);
            return;
          }
          mismatches.push(
            `${label}: strata ${JSON.stringify(mine)} alembic ${JSON.stringify(theirs)}`,
          );
        });
      }
      console.log(
        `alembic diff (Alembic ${oracle.alembic}, ${
          exact ? "exact orders" : "orders as sets"
        }): ${SEEDS} graphs, ${compared} queries (${refusedByBoth} refused by both), ${mismatches.length} mismatches; deliberate differences:`,
      );
      for (const [reason, count] of deliberate) console.log(`  ${count} x ${reason}`);
      const dump = Deno.env.get("STRATA_DIFF_DUMP");
      if (dump) await Deno.writeTextFile(dump, mismatches.join("\n"));
      deepStrictEqual(mismatches.slice(0, 15), [], `${mismatches.length} mismatches with Alembic`);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);
