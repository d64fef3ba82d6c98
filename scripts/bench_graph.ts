/**
 * Benchmark: load and resolve large revision graphs.
 *
 * Builds linear chains of 1,000 and 10,000 `.sql` revisions in memory, then times what
 * `strata upgrade` does before touching a database: parse every file (`parseSqlMigration`),
 * build the `RevisionGraph`, resolve `head`, and plan the upgrade from base to head.
 * The bar (DESIGN.md): 10,000 revisions under 200 ms, and at most 12x the 1,000 time.
 * `deno task bench` calls `benchGraph()`; run this file directly to print the figures.
 *
 * @module
 */

import { RevisionGraph } from "../lib/revision/graph.ts";
import { parseSqlMigration } from "../lib/revision/script.ts";
import { planUpgrade } from "../lib/runner/plan.ts";

/** One measurement. */
export interface GraphBenchResult {
  readonly name: string;
  /** Best wall time of the runs, in milliseconds (the least disturbed by other processes). */
  readonly ms: number;
  /** Median wall time of the runs, in milliseconds. */
  readonly medianMs: number;
  readonly revisions: number;
  /** Time of each phase in the best run, in milliseconds. */
  readonly parseMs: number;
  readonly graphMs: number;
  readonly planMs: number;
  readonly runs: number;
}

function chainTexts(n: number): { path: string; text: string }[] {
  const id = (i: number) => i.toString(16).padStart(12, "0");
  const files: { path: string; text: string }[] = [];
  for (let i = 0; i < n; i++) {
    files.push({
      path: `bench/2026_01_01_000000_${id(i)}_step_${i}.sql`,
      text: [
        `-- revision: ${id(i)}`,
        `-- down_revision: ${i === 0 ? "none" : id(i - 1)}`,
        `-- message: Step ${i}`,
        "",
        "-- migrate:up",
        `CREATE TABLE t${i} (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'x;y');`,
        `CREATE INDEX ix_t${i}_name ON t${i} (name);`,
        "",
        "-- migrate:down",
        `DROP TABLE t${i};`,
        "",
      ].join("\n"),
    });
  }
  return files;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function measure(n: number, runs: number): Promise<GraphBenchResult> {
  const files = chainTexts(n);
  const totals: number[] = [];
  const parses: number[] = [];
  const graphs: number[] = [];
  const plans: number[] = [];
  for (let run = 0; run < runs; run++) {
    const t0 = performance.now();
    const revisions = await Promise.all(files.map((f) => parseSqlMigration(f.text, f.path)));
    const t1 = performance.now();
    const graph = new RevisionGraph(revisions);
    const head = graph.resolveOne("head");
    const t2 = performance.now();
    const steps = planUpgrade(graph, [], "head");
    const t3 = performance.now();
    if (steps.length !== n || head?.revision !== revisions[n - 1].revision) {
      throw new Error(`Cannot benchmark: the ${n}-revision plan has ${steps.length} steps`);
    }
    totals.push(t3 - t0);
    parses.push(t1 - t0);
    graphs.push(t2 - t1);
    plans.push(t3 - t2);
  }
  const best = totals.indexOf(Math.min(...totals));
  return {
    name: `graph: load + resolve + plan ${n.toLocaleString("en-US")} revisions`,
    ms: totals[best],
    medianMs: median(totals),
    revisions: n,
    parseMs: parses[best],
    graphMs: graphs[best],
    planMs: plans[best],
    runs,
  };
}

/**
 * Time loading and resolving 1,000- and 10,000-revision chains over several runs after a
 * warm-up: the median and the best run of each (`deno task bench` judges the medians, as every
 * other bar; the best runs of a few milliseconds swing with the garbage collector). The last
 * entry compares the best runs against the bar, for running this file on its own.
 */
export async function benchGraph(): Promise<
  (GraphBenchResult | { name: string; ms: number; ratio: number; pass: boolean })[]
> {
  // Warm-up at both sizes: JIT tiers and heap growth are not what is being measured.
  await measure(1000, 3);
  await measure(10_000, 1);
  const small = await measure(1000, 9);
  const large = await measure(10_000, 7);
  const ratio = large.ms / small.ms;
  return [small, large, {
    name: "graph: 10,000 under 200 ms and at most 12x 1,000",
    ms: large.ms,
    ratio,
    pass: large.ms < 200 && ratio <= 12,
  }];
}

if (import.meta.main) {
  for (const result of await benchGraph()) console.log(JSON.stringify(result));
}
