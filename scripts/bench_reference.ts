/**
 * The reference chains at scale, for `deno task bench`:
 *
 * - **Upgrade with 1,000,000 task runs** (issue 6), on SQLite and PostgreSQL. A fresh database
 *   goes to the initial schema; flows, deployments, flow runs, their states, task runs and
 *   their states are bulk-loaded there with `INSERT ... SELECT` over a generated series (a
 *   recursive CTE on SQLite, `generate_series` on PostgreSQL), in one transaction. The chain
 *   then runs up to `add_artifacts` (the work-queue backfill of every flow run), artifacts and
 *   variables are loaded, and it runs on to `head` (the artifact-collection, deployment-version
 *   and variable backfills, the SQLite rebuilds of `flow_run`, `deployment`, `variable` and of
 *   the four tables holding a state type, PostgreSQL's index builds). Both upgrades run as
 *   the command line in a subprocess (`strata --json upgrade`), so their figures are wall-clock
 *   time including process start, each migration's own duration from the JSON result, and the
 *   process's peak RSS from GNU time. Row counts are verified afterwards.
 * - **`check` on the reference chains** (issue 8): `check()` from `lib/check.ts` (chains,
 *   notes, the applied migrations of the database just upgraded, and drift: replay, introspect,
 *   diff), and the drift check alone per dialect; medians of a few runs, in process.
 *
 * ```sh
 * deno run -A scripts/bench_reference.ts [--rows 1000000] [--check-runs 5] [--binary PATH]
 * ```
 *
 * PostgreSQL: `STRATA_TEST_DATABASE_URL`, 127.0.0.1:5432, or a throwaway cluster (see
 * `pg_cluster.ts`); a scratch database is created there and dropped afterwards. Without a
 * server, the PostgreSQL rows say why instead of giving a number.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { Connection } from "../lib/db/connection.ts";
import { openConnection } from "../lib/db/open.ts";
import { check } from "../lib/check.ts";
import { checkDrift } from "../lib/autogen/drift.ts";
import { locateProject } from "../lib/project.ts";
import { findOrStartPg, type PgServer } from "./pg_cluster.ts";

/** One line of the report. */
export interface BenchReferenceRow {
  readonly name: string;
  /** Milliseconds; NaN when the row could not be measured (`detail` says why). */
  readonly ms: number;
  readonly detail: string;
}

/** What {@link benchReference} takes. */
export interface BenchReferenceOptions {
  /** Task runs to load (default 1,000,000); everything else is proportional. */
  readonly rows?: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
  /** Runs of each `check` measurement (default 5). */
  readonly checkRuns?: number;
  /** The command line to time, as an argv prefix (default: this runtime running `cli.ts`). */
  readonly cli?: readonly string[];
  /** A PostgreSQL server URL (default: found or started by `pg_cluster.ts`). */
  readonly pgUrl?: string;
}

type Dialect = "sqlite" | "postgresql";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const MIGRATIONS = path.join(ROOT, "migrations");

const GNU_TIME = fs.existsSync("/usr/bin/time") &&
    spawnSync("/usr/bin/time", ["-f", "%M", "true"], { encoding: "utf8" }).status === 0
  ? "/usr/bin/time"
  : null;

// ---- generated data --------------------------------------------------------------------------

/** Kinds of rows, part of each generated id (so ids never collide across tables). */
const KIND = {
  flow: 1,
  deployment: 2,
  flowRun: 3,
  flowRunState: 4,
  taskRun: 5,
  taskRunState: 6,
  artifact: 7,
  variable: 8,
} as const;

/** 2025-06-01T00:00:00Z in Unix seconds: generated timestamps count from here. */
const BASE_SECONDS = 1_748_736_000;

/** How many rows of each table, for a number of task runs. */
export function referenceCounts(taskRuns: number) {
  const flowRuns = Math.max(1, Math.ceil(taskRuns / 10));
  const flows = Math.max(2, Math.ceil(taskRuns / 10_000));
  return {
    flow: flows,
    deployment: 2 * flows,
    flow_run: flowRuns,
    flow_run_state: 3 * flowRuns,
    task_run: taskRuns,
    task_run_state: taskRuns,
    artifact: Math.max(10, Math.floor(taskRuns / 50)),
    variable: Math.max(10, Math.floor(taskRuns / 1000)),
  };
}

/**
 * The SQL spelling of generated values. Ids are version-4-shaped UUIDs whose first group is a
 * multiplicative hash of the row number, so they arrive in random order as real UUIDs do
 * (sequential ids would make every primary-key insert an append), and are the same text on
 * both dialects.
 */
interface Spelling {
  /** A FROM item yielding `n` = 0 .. count-1. */
  series(count: number): string;
  /** An id as text (for concatenation into JSON). */
  idText(kind: number, n: string): string;
  /** An id as the column type. */
  id(kind: number, n: string): string;
  /** A timestamp `seconds` after the base time. */
  at(seconds: string): string;
  /** A JSON value from text. */
  json(text: string): string;
  /** A state type from text. */
  state(text: string): string;
  bool(value: boolean): string;
}

const SQLITE: Spelling = {
  series: (count) =>
    `(WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < ${
      count - 1
    }) SELECT n FROM s) AS g`,
  idText: (kind, n) =>
    `printf('%08x-%04x-4%03x-8%03x-%012x', ((${n}) * 2654435761) % 4294967296, ${kind}, ` +
    `(${n}) % 4096, (${n}) / 4096 % 4096, ${n})`,
  id: (kind, n) => SQLITE.idText(kind, n),
  at: (seconds) => `strftime('%Y-%m-%dT%H:%M:%fZ', ${BASE_SECONDS} + (${seconds}), 'unixepoch')`,
  json: (text) => text,
  state: (text) => text,
  bool: (value) => (value ? "1" : "0"),
};

const hex = (expr: string, width: number) => `lpad(to_hex(${expr}), ${width}, '0')`;

const POSTGRES: Spelling = {
  series: (count) => `generate_series(0, ${count - 1}) AS g(n)`,
  idText: (kind, n) =>
    `(${hex(`((${n})::bigint * 2654435761) % 4294967296`, 8)} || '-' || ${
      hex(String(kind), 4)
    } || '-4' || ${hex(`(${n}) % 4096`, 3)} || '-8' || ${
      hex(`(${n}) / 4096 % 4096`, 3)
    } || '-' || ${hex(`${n}`, 12)})`,
  id: (kind, n) => `${POSTGRES.idText(kind, n)}::uuid`,
  at: (seconds) => `to_timestamp(${BASE_SECONDS} + (${seconds}))`,
  json: (text) => `(${text})::jsonb`,
  state: (text) => `(${text})::state_type`,
  bool: (value) => (value ? "true" : "false"),
};

/** A flow run's last state type, from its number. */
const flowRunFinal = (r: string) =>
  `CASE (${r}) % 50 WHEN 49 THEN 'FAILED' WHEN 48 THEN 'CANCELLED' ELSE 'COMPLETED' END`;
const stateName = (type: string) =>
  `CASE (${type}) WHEN 'FAILED' THEN 'Failed' WHEN 'CANCELLED' THEN 'Cancelled' ` +
  `WHEN 'PENDING' THEN 'Pending' WHEN 'RUNNING' THEN 'Running' ELSE 'Completed' END`;
const taskRunFinal = (n: string) => `CASE WHEN (${n}) % 20 = 19 THEN 'FAILED' ELSE 'COMPLETED' END`;

/**
 * Statements that fill a database at the initial schema: flows, two deployments per flow
 * (some on named work queues, some without), a flow run per ten task runs (80% from a
 * deployment, every 25th a subflow of an earlier task run, every 100th pointing at a task run
 * that does not exist, which the parent foreign key's migration detaches), three states per
 * flow run, and each task run with its final state.
 */
export function initialLoadStatements(dialect: Dialect, taskRuns: number): string[] {
  const s = dialect === "sqlite" ? SQLITE : POSTGRES;
  const c = referenceCounts(taskRuns);
  const D = c.deployment;
  const frType = flowRunFinal("n");
  const trType = taskRunFinal("n");
  const tsStart = `(n / 10) * 60 + 120 + (n % 10) * 10`;
  return [
    `INSERT INTO flow ("id", "created", "updated", "name", "tags")
     SELECT ${s.id(KIND.flow, "n")}, ${s.at("n")}, ${s.at("n")}, 'flow-' || n,
            ${s.json(`'["bench"]'`)}
       FROM ${s.series(c.flow)}`,
    `INSERT INTO deployment ("id", "created", "updated", "name", "flow_id", "version",
       "description", "paused", "parameters", "tags", "work_queue_name", "entrypoint", "path")
     SELECT ${s.id(KIND.deployment, "n")}, ${s.at("n")}, ${s.at("n")}, 'deployment-' || n,
            ${s.id(KIND.flow, "n / 2")}, CASE WHEN n % 3 = 0 THEN NULL ELSE 'v' || (n % 3) END,
            'Deployment ' || n, ${s.bool(false)}, ${s.json(`'{"retries": 1}'`)},
            ${s.json(`'["prod"]'`)},
            CASE WHEN n % 4 = 3 THEN NULL ELSE 'queue-' || (n % 5) END,
            'flows.py:flow_' || (n / 2), '.'
       FROM ${s.series(D)}`,
    `INSERT INTO flow_run ("id", "created", "updated", "name", "flow_id", "deployment_id",
       "parent_task_run_id", "work_queue_name", "idempotency_key", "state_id", "state_type",
       "state_name", "state_timestamp", "run_count", "expected_start_time",
       "next_scheduled_start_time", "start_time", "end_time", "total_run_time", "parameters",
       "tags")
     SELECT ${s.id(KIND.flowRun, "n")}, ${s.at("n * 60 - 300")}, ${s.at("n * 60 + 240")},
            'run-' || n,
            CASE WHEN n % 5 = 0 THEN ${s.id(KIND.flow, `n % ${c.flow}`)}
                 ELSE ${s.id(KIND.flow, `(n % ${D}) / 2`)} END,
            CASE WHEN n % 5 = 0 THEN NULL ELSE ${s.id(KIND.deployment, `n % ${D}`)} END,
            CASE WHEN n % 100 = 99 THEN ${s.id(KIND.taskRun, `${taskRuns} + n`)}
                 WHEN n % 25 = 24 THEN ${s.id(KIND.taskRun, "(n - 1) * 10")}
                 ELSE NULL END,
            CASE WHEN n % 5 = 0 OR (n % ${D}) % 4 = 3 THEN NULL
                 ELSE 'queue-' || ((n % ${D}) % 5) END,
            CASE WHEN n % 5 = 0 THEN NULL ELSE 'scheduled-' || n END,
            ${s.id(KIND.flowRunState, "n * 3 + 2")}, ${s.state(frType)}, ${stateName(frType)},
            ${s.at("n * 60 + 240")}, 1, ${s.at("n * 60")}, NULL, ${s.at("n * 60 + 120")},
            ${s.at("n * 60 + 240")}, 120.0, ${s.json(`'{"run": ' || n || '}'`)},
            ${s.json(`'["prod"]'`)}
       FROM ${s.series(c.flow_run)}`,
    `INSERT INTO flow_run_state ("id", "created", "updated", "flow_run_id", "type", "timestamp",
       "name", "message", "state_details", "data")
     SELECT ${s.id(KIND.flowRunState, "n")}, ${s.at("(n / 3) * 60 + (n % 3) * 120")},
            ${s.at("(n / 3) * 60 + (n % 3) * 120")}, ${s.id(KIND.flowRun, "n / 3")},
            ${
      s.state(
        `CASE n % 3 WHEN 0 THEN 'PENDING' WHEN 1 THEN 'RUNNING' ELSE ${flowRunFinal("n / 3")} END`,
      )
    },
            ${s.at("(n / 3) * 60 + (n % 3) * 120")},
            ${
      stateName(
        `CASE n % 3 WHEN 0 THEN 'PENDING' WHEN 1 THEN 'RUNNING' ELSE ${flowRunFinal("n / 3")} END`,
      )
    },
            NULL, ${
      s.json(`'{"flow_run_id": "' || ${s.idText(KIND.flowRun, "n / 3")} || '"}'`)
    }, NULL
       FROM ${s.series(c.flow_run_state)}`,
    `INSERT INTO task_run ("id", "created", "updated", "name", "flow_run_id", "task_key",
       "dynamic_key", "cache_key", "cache_expiration", "task_version", "state_id",
       "state_type", "state_name", "state_timestamp", "run_count", "expected_start_time",
       "start_time", "end_time", "total_run_time", "tags", "task_inputs")
     SELECT ${s.id(KIND.taskRun, "n")}, ${s.at(tsStart)}, ${s.at(`${tsStart} + 5`)},
            'task-' || (n % 4) || '-' || (n % 10), ${s.id(KIND.flowRun, "n / 10")},
            'flows.task_' || (n % 4), CAST(n % 10 AS VARCHAR),
            CASE WHEN n % 4 = 0 THEN 'cache-' || n ELSE NULL END, NULL, '1',
            ${s.id(KIND.taskRunState, "n")}, ${s.state(trType)}, ${stateName(trType)},
            ${s.at(`${tsStart} + 5`)}, 1, ${s.at(tsStart)}, ${s.at(tsStart)},
            ${s.at(`${tsStart} + 5`)}, 0.3, ${s.json(`'[]'`)},
            ${
      s.json(
        `CASE WHEN n % 10 = 0 THEN '{}' ELSE '{"x": [{"input_type": "task_run", "id": "' || ${
          s.idText(KIND.taskRun, "n - 1")
        } || '"}]}' END`,
      )
    }
       FROM ${s.series(taskRuns)}`,
    `INSERT INTO task_run_state ("id", "created", "updated", "task_run_id", "type", "timestamp",
       "name", "message", "state_details", "data")
     SELECT ${s.id(KIND.taskRunState, "n")}, ${s.at(`${tsStart} + 5`)},
            ${s.at(`${tsStart} + 5`)}, ${s.id(KIND.taskRun, "n")}, ${s.state(trType)},
            ${s.at(`${tsStart} + 5`)}, ${stateName(trType)},
            CASE WHEN n % 20 = 19 THEN 'Task run encountered an exception' ELSE NULL END,
            ${
      s.json(
        `'{"task_run_id": "' || ${s.idText(KIND.taskRun, "n")} || '", "flow_run_id": "' || ${
          s.idText(KIND.flowRun, "n / 10")
        } || '"}'`,
      )
    }, NULL
       FROM ${s.series(taskRuns)}`,
  ];
}

/**
 * Statements that add artifacts (about eight per key, a fifth without a key) and variables
 * (text values) once their tables exist, before the migrations that backfill collections and
 * convert values to JSON.
 */
export function artifactLoadStatements(dialect: Dialect, taskRuns: number): string[] {
  const s = dialect === "sqlite" ? SQLITE : POSTGRES;
  const c = referenceCounts(taskRuns);
  const keys = Math.max(1, Math.floor(c.artifact / 10));
  const task = `(n * 50) % ${taskRuns}`;
  return [
    `INSERT INTO artifact ("id", "created", "updated", "key", "type", "data", "description",
       "metadata_", "flow_run_id", "task_run_id")
     SELECT ${s.id(KIND.artifact, "n")}, ${s.at("n * 37")}, ${s.at("n * 37")},
            CASE WHEN n % 5 = 4 THEN NULL ELSE 'report-' || (n % ${keys}) END,
            CASE n % 3 WHEN 0 THEN 'markdown' WHEN 1 THEN 'table' ELSE 'link' END,
            ${s.json(`'{"rows": ' || n || '}'`)}, 'Artifact ' || n,
            ${s.json(`'{"source": "bench"}'`)}, ${s.id(KIND.flowRun, `(${task}) / 10`)},
            ${s.id(KIND.taskRun, task)}
       FROM ${s.series(c.artifact)}`,
    `INSERT INTO variable ("id", "created", "updated", "name", "value", "tags")
     SELECT ${s.id(KIND.variable, "n")}, ${s.at("n")}, ${s.at("n")}, 'var_' || n,
            'value-' || n || CASE WHEN n % 7 = 3 THEN ' with ''quotes''' ELSE '' END,
            ${s.json(`'[]'`)}
       FROM ${s.series(c.variable)}`,
  ];
}

async function runInTransaction(connection: Connection, statements: readonly string[]) {
  await connection.execute("BEGIN");
  try {
    for (const statement of statements) await connection.execute(statement);
    await connection.execute("COMMIT");
  } catch (error) {
    await connection.execute("ROLLBACK").catch(() => {});
    throw error;
  }
}

async function countRows(connection: Connection, tables: readonly string[]) {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const [row] = await connection.query<{ n: number | string | bigint }>(
      `SELECT COUNT(*) AS n FROM ${table}`,
    );
    counts[table] = Number(row.n);
  }
  return counts;
}

// ---- the command line in a subprocess --------------------------------------------------------

interface UpgradeRun {
  readonly ms: number;
  readonly rssKib: number | null;
  /** User + system CPU seconds of the process (GNU time), or null. */
  readonly cpuSeconds: number | null;
  readonly steps: readonly { revision: string; slug: string; durationMs: number }[];
}

function defaultCli(): string[] {
  const cli = path.join(ROOT, "cli.ts");
  const runtime = process.execPath;
  return path.basename(runtime).startsWith("bun") ? [runtime, cli] : [runtime, "run", "-A", cli];
}

function runUpgrade(cli: readonly string[], url: string, target: string): UpgradeRun {
  const rssFile = path.join(os.tmpdir(), `strata-bench-rss-${process.pid}`);
  const argv = [...cli, "--url", url, "--dir", MIGRATIONS, "--json", "upgrade", target];
  const full = GNU_TIME ? [GNU_TIME, "-f", "%M %U %S", "-o", rssFile, ...argv] : argv;
  const started = performance.now();
  const result = spawnSync(full[0], full.slice(1), {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1" },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - started;
  if (result.status !== 0) {
    const tail = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n").slice(-12);
    throw new Error(`strata upgrade ${target} exited ${result.status}: ${tail.join("\n")}`);
  }
  let rssKib: number | null = null;
  let cpuSeconds: number | null = null;
  if (GNU_TIME) {
    const last = fs.readFileSync(rssFile, "utf8").trim().split("\n").pop() ?? "";
    const [rss, user, system] = last.split(" ").map(Number);
    rssKib = rss || null;
    cpuSeconds = Number.isFinite(user + system) ? user + system : null;
    fs.rmSync(rssFile, { force: true });
  }
  const parsed = JSON.parse(result.stdout) as { steps: UpgradeRun["steps"] };
  return { ms, rssKib, cpuSeconds, steps: parsed.steps };
}

/** The revision of the chain file whose slug is `slug`. */
function revisionBySlug(dialect: Dialect, slug: string): string {
  const pattern = new RegExp(`^\\d{4}_\\d{2}_\\d{2}_\\d{6}_([0-9a-f]+)_${slug}\\.(ts|sql)$`);
  for (const file of fs.readdirSync(path.join(MIGRATIONS, dialect))) {
    const match = pattern.exec(file);
    if (match) return match[1];
  }
  throw new Error(`no ${slug} migration in migrations/${dialect}`);
}

// ---- formatting ------------------------------------------------------------------------------

const seconds = (ms: number) =>
  ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
const mib = (kib: number | null) => kib === null ? "n/a" : `${Math.round(kib / 1024)} MiB`;
const thousands = (n: number) => n.toLocaleString("en-US");

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function timed(runs: number, fn: () => Promise<void>) {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  return {
    median: median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    runs,
  };
}

// ---- one dialect -----------------------------------------------------------------------------

const CORE_TABLES = [
  "flow",
  "deployment",
  "flow_run",
  "flow_run_state",
  "task_run",
  "task_run_state",
  "artifact",
  "variable",
];

async function benchUpgrade(
  dialect: Dialect,
  url: string,
  taskRuns: number,
  cli: readonly string[],
  log: (line: string) => void,
  sizeOf: () => Promise<number>,
): Promise<BenchReferenceRow[]> {
  const rows: BenchReferenceRow[] = [];
  const label = dialect === "sqlite" ? "SQLite" : "PostgreSQL";
  const initial = revisionBySlug(dialect, "initial_schema");
  const artifacts = revisionBySlug(dialect, "add_artifacts");

  log(`${dialect}: upgrade to the initial schema (${initial})`);
  runUpgrade(cli, url, initial);

  const connection = openConnection(url);
  let loadMs = 0;
  const expected = referenceCounts(taskRuns);
  let parentsKept = 0;
  try {
    if (dialect === "sqlite") {
      await connection.executeScript("PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;");
    }
    log(`${dialect}: loading ${thousands(taskRuns)} task runs`);
    let started = performance.now();
    await runInTransaction(connection, initialLoadStatements(dialect, taskRuns));
    if (dialect === "postgresql") await connection.execute("VACUUM ANALYZE");
    loadMs += performance.now() - started;
    const [kept] = await connection.query<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM flow_run f
        WHERE f.parent_task_run_id IS NOT NULL
          AND EXISTS (SELECT 1 FROM task_run t WHERE t.id = f.parent_task_run_id)`,
    );
    parentsKept = Number(kept.n);
    await connection.close();

    log(`${dialect}: upgrade to add_artifacts (${artifacts})`);
    const first = runUpgrade(cli, url, artifacts);

    const more = openConnection(url);
    try {
      if (dialect === "sqlite") {
        await more.executeScript("PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;");
      }
      started = performance.now();
      await runInTransaction(more, artifactLoadStatements(dialect, taskRuns));
      if (dialect === "postgresql") await more.execute("VACUUM ANALYZE");
      loadMs += performance.now() - started;
    } finally {
      await more.close();
    }
    const sizeBefore = await sizeOf();

    log(`${dialect}: upgrade to head`);
    const second = runUpgrade(cli, url, "head");

    // What must have survived, and what the backfills made.
    const verify = openConnection(url);
    const problems: string[] = [];
    let sizeAfter = 0;
    try {
      const counts = await countRows(verify, [
        ...CORE_TABLES,
        "artifact_collection",
        "deployment_version",
      ]);
      for (const table of CORE_TABLES) {
        const want = expected[table as keyof typeof expected];
        if (counts[table] !== want) problems.push(`${table} ${counts[table]} != ${want}`);
      }
      const [keys] = await verify.query<{ n: number | string }>(
        "SELECT COUNT(DISTINCT key) AS n FROM artifact",
      );
      if (counts.artifact_collection !== Number(keys.n)) {
        problems.push(`artifact_collection ${counts.artifact_collection} != ${keys.n} keys`);
      }
      if (counts.deployment_version !== expected.deployment) {
        problems.push(`deployment_version ${counts.deployment_version} != ${expected.deployment}`);
      }
      const [checks] = await verify.query<
        { parents: number | string; unqueued: number | string; queued: number | string }
      >(
        `SELECT (SELECT COUNT(*) FROM flow_run WHERE parent_task_run_id IS NOT NULL) AS parents,
                (SELECT COUNT(*) FROM deployment WHERE work_queue_id IS NULL) AS unqueued,
                (SELECT COUNT(*) FROM flow_run WHERE work_queue_id IS NOT NULL) AS queued`,
      );
      if (Number(checks.parents) !== parentsKept) {
        problems.push(`flow runs with a parent ${checks.parents} != ${parentsKept}`);
      }
      if (Number(checks.unqueued) !== 0) {
        problems.push(`${checks.unqueued} deployments without a work queue`);
      }
      if (Number(checks.queued) === 0) problems.push("no flow run got a work queue");
      const [variable] = await verify.query<{ value: unknown }>(
        "SELECT value FROM variable WHERE name = 'var_0'",
      );
      const value = typeof variable?.value === "string" && dialect === "sqlite"
        ? JSON.parse(variable.value)
        : variable?.value;
      if (value !== "value-0") problems.push(`variable var_0 is ${JSON.stringify(value)}`);
      sizeAfter = await sizeOf();
    } finally {
      await verify.close();
    }
    if (problems.length > 0) {
      throw new Error(`${dialect}: the upgraded data is wrong: ${problems.join("; ")}`);
    }

    const steps = [...first.steps, ...second.steps];
    const stepTotal = steps.reduce((sum, step) => sum + step.durationMs, 0);
    const slowest = [...steps].sort((a, b) => b.durationMs - a.durationMs).slice(0, 4)
      .map((step) => `${step.slug} ${seconds(step.durationMs)}`).join(", ");
    const peak = Math.max(first.rssKib ?? 0, second.rssKib ?? 0) || null;
    const cpu = first.cpuSeconds !== null && second.cpuSeconds !== null
      ? `${(first.cpuSeconds + second.cpuSeconds).toFixed(1)} s`
      : "n/a";
    const loaded = Object.values(expected).reduce((a, b) => a + b, 0);
    rows.push({
      name: `${label}: load ${thousands(taskRuns)} task runs (setup, not a bar)`,
      ms: loadMs,
      detail: `${thousands(loaded)} rows (${
        CORE_TABLES.map((t) => `${t} ${thousands(expected[t as keyof typeof expected])}`).join(
          ", ",
        )
      }); database ${Math.round(sizeBefore / 2 ** 20)} MiB`,
    });
    rows.push({
      name: `${label}: upgrade ${
        thousands(taskRuns)
      } task runs to head (${steps.length} migrations)`,
      ms: first.ms + second.ms,
      detail:
        `wall clock of two CLI runs (initial → add_artifacts ${seconds(first.ms)}, → head ${
          seconds(second.ms)
        }); migrations ${seconds(stepTotal)}; strata's CPU ${cpu}; peak RSS ${
          mib(peak)
        }; slowest: ${slowest}; ` +
        `counts verified; database ${Math.round(sizeAfter / 2 ** 20)} MiB after`,
    });
    for (const step of steps) {
      if (step.durationMs < Math.max(100, stepTotal * 0.02)) continue;
      rows.push({
        name: `${label}: ↑ ${step.revision} ${step.slug}`,
        ms: step.durationMs,
        detail: `${Math.round((100 * step.durationMs) / stepTotal)}% of the migrations' time`,
      });
    }
    return rows;
  } catch (error) {
    await connection.close().catch(() => {});
    throw error;
  }
}

async function benchCheck(
  url: string,
  dialect: Dialect,
  runs: number,
  serverUrl: string | undefined,
  log: (line: string) => void,
): Promise<BenchReferenceRow[]> {
  const rows: BenchReferenceRow[] = [];
  const location = locateProject({ dir: MIGRATIONS });
  log(`check --url ${dialect} (${runs} runs)`);
  let report: Awaited<ReturnType<typeof check>> | undefined;
  const full = await timed(runs, async () => {
    report = await check({ dir: MIGRATIONS, url });
  });
  const drifts = dialect === "postgresql" ? "both dialects' drift" : "SQLite drift only";
  const found = report!.problems.map((p) => `${p.dialect ?? ""} ${p.area}: ${p.message}`);
  const skipped = report!.skipped.map((p) => `${p.dialect} ${p.area} skipped: ${p.message}`);
  rows.push({
    name: `check --url ${dialect === "sqlite" ? "sqlite:" : "postgresql:"} (${drifts})`,
    ms: full.median,
    detail: `median of ${runs} (min ${seconds(full.min)}, max ${seconds(full.max)}); chains, ` +
      `notes, applied migrations of the upgraded database, ${drifts}; ${
        report!.clean ? "clean" : `problems: ${found.join("; ")}`
      }${skipped.length ? `; ${skipped.join("; ")}` : ""}`,
  });
  log(`drift ${dialect} (${runs} runs)`);
  let differences: readonly string[] = [];
  let why: string | undefined;
  const drift = await timed(runs, async () => {
    const result = await checkDrift({ location, dialect, serverUrl });
    differences = result.differences;
    why = result.skipped;
  });
  rows.push({
    name: `check drift, ${dialect} (replay + introspect + diff)`,
    ms: why ? NaN : drift.median,
    detail: why
      ? `not measured: ${why}`
      : `median of ${runs} (min ${seconds(drift.min)}, max ${seconds(drift.max)}); ${
        differences.length ? `${differences.length} differences` : "no drift"
      }`,
  });
  return rows;
}

// ---- the whole run ---------------------------------------------------------------------------

/**
 * Upgrade both dialects' reference chains with `rows` task runs loaded, and time `check` on
 * them. Rows that could not be measured carry NaN and the reason.
 */
export async function benchReference(
  options: BenchReferenceOptions = {},
): Promise<BenchReferenceRow[]> {
  const taskRuns = options.rows ?? 1_000_000;
  const log = options.log ?? (() => {});
  const checkRuns = options.checkRuns ?? 5;
  const cli = options.cli ?? defaultCli();
  const rows: BenchReferenceRow[] = [];
  const failed = (name: string, error: unknown) => {
    const message = (error as Error).message ?? String(error);
    log(`${name} failed: ${message}`);
    rows.push({ name, ms: NaN, detail: `not measured: ${message.split("\n")[0]}` });
  };

  // SQLite: a file in a directory of its own (the lockfile goes beside it).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "strata-bench-ref-"));
  const sqliteUrl = `sqlite:${path.join(dir, "reference.db")}`;
  let pg: PgServer | null = null;
  let pgUrl: string | null = null;
  let pgAdmin: Connection | null = null;
  const database = `strata_bench_ref_${process.pid}_${Date.now()}`;
  try {
    try {
      rows.push(
        ...await benchUpgrade(
          "sqlite",
          sqliteUrl,
          taskRuns,
          cli,
          log,
          () => Promise.resolve(fs.statSync(path.join(dir, "reference.db")).size),
        ),
      );
    } catch (error) {
      failed("SQLite: upgrade with task runs", error);
    }

    let serverUrl: string | undefined;
    try {
      if (options.pgUrl) serverUrl = options.pgUrl;
      else {
        pg = await findOrStartPg();
        serverUrl = pg.url;
      }
      pgAdmin = openConnection(serverUrl);
      await pgAdmin.execute(`CREATE DATABASE ${database}`);
      const url = new URL(serverUrl);
      url.pathname = `/${database}`;
      pgUrl = url.toString();
      const size = async () => {
        const [row] = await pgAdmin!.query<{ n: number | string }>(
          `SELECT pg_database_size('${database}') AS n`,
        );
        return Number(row.n);
      };
      rows.push(...await benchUpgrade("postgresql", pgUrl, taskRuns, cli, log, size));
    } catch (error) {
      failed("PostgreSQL: upgrade with task runs", error);
    }

    try {
      rows.push(...await benchCheck(sqliteUrl, "sqlite", checkRuns, undefined, log));
    } catch (error) {
      failed("check, SQLite", error);
    }
    try {
      if (!pgUrl) throw new Error("no PostgreSQL database (see above)");
      rows.push(...await benchCheck(pgUrl, "postgresql", checkRuns, pgUrl, log));
    } catch (error) {
      failed("check, PostgreSQL", error);
    }
  } finally {
    if (pgAdmin) {
      await pgAdmin.execute(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch((error) =>
        log(`could not drop ${database}: ${(error as Error).message}`)
      );
      await pgAdmin.close().catch(() => {});
    }
    await pg?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** The rows as a markdown table. */
export function referenceTable(rows: readonly BenchReferenceRow[]): string {
  const lines = ["| benchmark | time | detail |", "| --- | ---: | --- |"];
  for (const row of rows) {
    const time = Number.isNaN(row.ms) ? "—" : seconds(row.ms);
    lines.push(`| ${row.name} | ${time} | ${row.detail.replaceAll("|", "\\|")} |`);
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const { parseArgs } = await import("node:util");
  const { values } = parseArgs({
    options: {
      rows: { type: "string" },
      "check-runs": { type: "string" },
      binary: { type: "string" },
      "pg-url": { type: "string" },
    },
  });
  const started = performance.now();
  const rows = await benchReference({
    rows: values.rows === undefined ? undefined : Number(values.rows),
    checkRuns: values["check-runs"] === undefined ? undefined : Number(values["check-runs"]),
    cli: values.binary ? [path.resolve(values.binary)] : undefined,
    pgUrl: values["pg-url"],
    log: (line) => console.error(`bench-reference: ${line}`),
  });
  console.log(referenceTable(rows));
  console.error(`bench-reference: done in ${seconds(performance.now() - started)}`);
  if (rows.some((row) => Number.isNaN(row.ms))) process.exitCode = 1;
}
