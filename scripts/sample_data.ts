/**
 * A sample orchestration history for the reference schema at head: flows, deployments on work
 * queues, flow runs with their task runs and state histories, logs, events, artifacts,
 * variables, blocks and concurrency limits.
 *
 * The same seed gives the same rows (ids included) on SQLite and PostgreSQL, so tests can hash
 * what they loaded and compare after migrating down and up again. Rows go in with multi-row
 * `INSERT`s with `$n` parameters inside one transaction; timestamps are ISO-8601 strings, JSON
 * values are JSON text, and each dialect's driver and column types do the rest.
 *
 * Run it against a database at head:
 *
 * ```sh
 * deno run -A scripts/sample_data.ts --url sqlite:./strata.db [--flows 100] [--flow-runs 1000] \
 *   [--task-runs 10000] [--seed 1]
 * ```
 *
 * @module
 */

import type { Connection } from "../lib/db/connection.ts";

/** How much to generate. The defaults are the full sample: 100 flows, 1,000 runs, 10,000 task runs. */
export interface SampleDataOptions {
  readonly flows?: number;
  readonly flowRuns?: number;
  /** Task runs in all, spread over the flow runs that ran. */
  readonly taskRuns?: number;
  /** Same seed, same rows. */
  readonly seed?: number;
}

/** Rows inserted, by table. */
export type SampleDataCounts = Record<string, number>;

/**
 * A value for a JSON column. Each driver takes JSON its own way: SQLite stores the JSON text
 * it is given, the PostgreSQL driver serialises a JavaScript value for a `jsonb` parameter
 * itself (a pre-serialised string would become a JSON string of that text).
 */
export class Json {
  constructor(readonly value: unknown) {}
}

type Value = string | number | boolean | null | Json;
type Row = Record<string, Value>;

/** mulberry32: small, fast and good enough to make sample data reproducible. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

class SampleRandom {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = seededRandom(seed);
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.#next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.#next() < p;
  }
  /** A version 4 UUID drawn from the seeded generator. */
  uuid(): string {
    let hex = "";
    for (let i = 0; i < 16; i++) {
      let byte = this.int(256);
      if (i === 6) byte = (byte & 0x0f) | 0x40;
      if (i === 8) byte = (byte & 0x3f) | 0x80;
      hex += HEX[byte];
    }
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
      hex.slice(20)
    }`;
  }
}

const BASE_TIME = Date.parse("2025-06-01T00:00:00.000Z");
const MINUTE = 60_000;

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/**
 * `new Date(ms).toISOString()`, written out by hand: the sample formats some 400,000
 * timestamps, and the built-in is the slowest part of generating it.
 */
function at(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  let rest = ms - days * 86_400_000;
  // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) -
      Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  return `${year}-${pad(month)}-${pad(day)}T${pad(hours)}:${pad(minutes)}:${pad(seconds)}.${
    pad(rest - seconds * 1000, 3)
  }Z`;
}

function json(value: unknown): Json {
  return new Json(value);
}

function toParameter(value: Value, dialect: Connection["dialect"]): unknown {
  if (!(value instanceof Json)) return value;
  return dialect === "sqlite" ? JSON.stringify(value.value) : value.value;
}

/**
 * Parameters per statement. PostgreSQL allows 65,535; SQLite binds `?NNN` parameters in time
 * that grows with their number squared, so it gets small statements (which it parses fast).
 */
const MAX_PARAMS = { sqlite: 400, postgresql: 20_000 } as const;

async function insertRows(connection: Connection, table: string, rows: readonly Row[]) {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  const perStatement = Math.max(1, Math.floor(MAX_PARAMS[connection.dialect] / columns.length));
  // Quoted: `timestamp` and `limit` are column names here.
  const columnList = columns.map((c) => `"${c}"`).join(", ");
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const params: unknown[] = [];
    const tuples = chunk.map((row) => {
      const slots = columns.map((column) => {
        params.push(toParameter(row[column] ?? null, connection.dialect));
        return `$${params.length}`;
      });
      return `(${slots.join(", ")})`;
    });
    await connection.execute(
      `INSERT INTO ${table} (${columnList}) VALUES ${tuples.join(", ")}`,
      params,
    );
  }
}

const TERMINAL = ["COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "FAILED", "CRASHED"];
const STATE_NAMES: Record<string, string> = {
  SCHEDULED: "Scheduled",
  PENDING: "Pending",
  RUNNING: "Running",
  COMPLETED: "Completed",
  FAILED: "Failed",
  CANCELLED: "Cancelled",
  CANCELLING: "Cancelling",
  CRASHED: "Crashed",
  PAUSED: "Paused",
};
const ENVIRONMENTS = ["prod", "staging", "dev"];
const TEAMS = ["data", "ml", "platform", "finance"];

/** The rows of the sample, computed without touching a database. */
export function generateSampleRows(options: SampleDataOptions = {}): Map<string, Row[]> {
  const flows = options.flows ?? 100;
  const flowRunCount = options.flowRuns ?? 1000;
  const taskRunCount = options.taskRuns ?? 10 * flowRunCount;
  const random = new SampleRandom(options.seed ?? 1);
  const tables = new Map<string, Row[]>();
  const rows = (table: string) => {
    if (!tables.has(table)) tables.set(table, []);
    return tables.get(table)!;
  };

  // Work pools and queues.
  const queues: { id: string; name: string }[] = [];
  for (const [p, pool] of ["process", "kubernetes", "serverless"].entries()) {
    const poolId = random.uuid();
    const poolQueues = p === 0 ? ["default"] : ["default", "high-priority", "backfill"];
    const queueIds = poolQueues.map(() => random.uuid());
    rows("work_pool").push({
      id: poolId,
      created: at(BASE_TIME - 90 * 24 * 60 * MINUTE + p * MINUTE),
      updated: at(BASE_TIME - 90 * 24 * 60 * MINUTE + p * MINUTE),
      name: pool,
      description: `The ${pool} pool`,
      type: pool,
      base_job_template: json({ job_configuration: { image: `{{ image }}`, pool } }),
      is_paused: false,
      concurrency_limit: p === 0 ? null : 20 * p,
      default_queue_id: queueIds[0],
    });
    poolQueues.forEach((queue, q) => {
      rows("work_queue").push({
        id: queueIds[q],
        created: at(BASE_TIME - 89 * 24 * 60 * MINUTE + q * MINUTE),
        updated: at(BASE_TIME - 89 * 24 * 60 * MINUTE + q * MINUTE),
        name: queue,
        description: null,
        is_paused: false,
        concurrency_limit: q === 2 ? 5 : null,
        priority: q + 1,
        last_polled: at(BASE_TIME + 30 * 24 * 60 * MINUTE),
        work_pool_id: poolId,
      });
      queues.push({ id: queueIds[q], name: queue });
    });
  }

  // Flows, each with a deployment for two thirds of them, each deployment with versions.
  const flowIds: string[] = [];
  const deployments: { id: string; flowId: string; queue: { id: string; name: string } }[] = [];
  for (let f = 0; f < flows; f++) {
    const id = random.uuid();
    flowIds.push(id);
    const created = at(BASE_TIME - (60 - (f % 60)) * 24 * 60 * MINUTE);
    const team = random.pick(TEAMS);
    rows("flow").push({
      id,
      created,
      updated: created,
      name: `${team}-flow-${String(f).padStart(3, "0")}`,
      tags: json([team, random.pick(["etl", "report", "sync", "train"])]),
      labels: json({ team }),
    });
    if (f % 3 === 2) continue;
    const deploymentId = random.uuid();
    const queue = random.pick(queues);
    const env = random.pick(ENVIRONMENTS);
    const versionCount = 1 + random.int(3);
    const versionIds = Array.from({ length: versionCount }, () => random.uuid());
    const parameters = json({ batch_size: 100 * (1 + random.int(10)), env });
    rows("deployment").push({
      id: deploymentId,
      created,
      updated: created,
      name: `${env}-deployment`,
      flow_id: id,
      version: `1.${versionCount - 1}.0`,
      description: `Runs flow ${f} in ${env}`,
      paused: f % 17 === 0,
      parameters,
      parameter_openapi_schema: json({ type: "object", properties: { batch_size: {} } }),
      tags: json([env]),
      work_queue_name: queue.name,
      entrypoint: `flows/flow_${f}.py:main`,
      path: "/opt/flows",
      work_queue_id: queue.id,
      labels: json({ env, team }),
      // Set once the versions exist (the two tables reference each other).
      version_id: null,
    });
    versionIds.forEach((versionId, v) => {
      rows("deployment_version").push({
        id: versionId,
        created: at(Date.parse(created) + v * 24 * 60 * MINUTE),
        updated: at(Date.parse(created) + v * 24 * 60 * MINUTE),
        deployment_id: deploymentId,
        version: `1.${v}.0`,
        branch: v % 2 === 0 ? "main" : "feature",
        version_info: json({ type: "git", commit: random.uuid().replaceAll("-", "").slice(0, 12) }),
        description: null,
        parameters,
        tags: json([env]),
        labels: json({ env, team }),
        entrypoint: `flows/flow_${f}.py:main`,
        is_active: v === versionCount - 1,
      });
    });
    deployments.push({ id: deploymentId, flowId: id, queue });
  }
  const activeVersion = new Map<string, string>();
  for (const version of rows("deployment_version")) {
    if (version.is_active) activeVersion.set(version.deployment_id as string, version.id as string);
  }

  // Flow runs, their states, task runs and their states, logs and events.
  const taskRunIds: string[] = [];
  const subflowLinks: { flowRunId: string; parentTaskRunId: string }[] = [];
  // The last tenth of the runs is still in the future: scheduled, or (a few) being cancelled.
  const paths = Array.from({ length: flowRunCount }, (_, r) => {
    const future = r - Math.ceil(flowRunCount * 0.9);
    if (future >= 0) return future % 8 === 3 ? ["SCHEDULED", "CANCELLING"] : ["SCHEDULED"];
    if (random.chance(0.03)) return ["SCHEDULED", "PENDING", "CANCELLED"];
    return ["SCHEDULED", "PENDING", "RUNNING", random.pick(TERMINAL)];
  });
  const ranCount = Math.max(1, paths.filter((path) => path.includes("RUNNING")).length);
  let ranIndex = 0;
  for (let r = 0; r < flowRunCount; r++) {
    const id = random.uuid();
    const deployment = random.chance(0.8) && deployments.length > 0
      ? random.pick(deployments)
      : null;
    const flowId = deployment?.flowId ?? random.pick(flowIds);
    const expected = BASE_TIME + r * 10 * MINUTE;
    // The last tenth is still in the future: scheduled, or (a few) being cancelled.
    const path = paths[r];
    const states = path.map((type, s) => ({
      id: random.uuid(),
      type,
      timestamp: expected - MINUTE + s * 2 * MINUTE + (r % 1000),
    }));
    const last = states[states.length - 1];
    const ran = path.includes("RUNNING");
    const runtime = ran ? 30 + random.int(600) : 0;
    const labels = { env: random.pick(ENVIRONMENTS), team: random.pick(TEAMS) };
    rows("flow_run").push({
      id,
      created: at(expected - 5 * MINUTE),
      updated: at(last.timestamp),
      name: `run-${String(r).padStart(5, "0")}-${random.pick(["brave", "calm", "eager", "quiet"])}`,
      flow_id: flowId,
      deployment_id: deployment?.id ?? null,
      parent_task_run_id: null,
      work_queue_name: deployment?.queue.name ?? null,
      idempotency_key: deployment ? `scheduled-${r}` : null,
      state_id: last.id,
      state_type: last.type,
      state_name: STATE_NAMES[last.type],
      state_timestamp: at(last.timestamp),
      run_count: ran ? 1 : 0,
      expected_start_time: at(expected),
      next_scheduled_start_time: last.type === "SCHEDULED" ? at(expected) : null,
      start_time: ran ? at(states[2].timestamp) : null,
      end_time: ran ? at(states[2].timestamp + runtime * 1000) : null,
      total_run_time: runtime,
      parameters: json({ run: r }),
      tags: json([labels.env]),
      work_queue_id: deployment?.queue.id ?? null,
      labels: json(labels),
    });
    for (const [s, state] of states.entries()) {
      rows("flow_run_state").push({
        id: state.id,
        created: at(state.timestamp),
        updated: at(state.timestamp),
        flow_run_id: id,
        type: state.type,
        timestamp: at(state.timestamp),
        name: STATE_NAMES[state.type],
        message: state.type === "FAILED" ? `Flow run ${r} failed: ValueError` : null,
        state_details: json({ flow_run_id: id, scheduled_time: at(expected) }),
        data: state.type === "COMPLETED" ? json({ type: "reference", key: `result-${r}` }) : null,
      });
      const eventId = random.uuid();
      const occurred = at(state.timestamp);
      const resourceId = `prefect.flow-run.${id}`;
      const related = [
        { "prefect.resource.id": `prefect.flow.${flowId}`, "prefect.resource.role": "flow" },
        ...(deployment
          ? [{
            "prefect.resource.id": `prefect.deployment.${deployment.id}`,
            "prefect.resource.role": "deployment",
          }]
          : []),
      ];
      rows("events").push({
        id: eventId,
        created: occurred,
        updated: occurred,
        occurred,
        event: `prefect.flow-run.${STATE_NAMES[state.type]}`,
        resource_id: resourceId,
        resource: json({ "prefect.resource.id": resourceId, "prefect.state-type": state.type }),
        related_resource_ids: json(related.map((x) => x["prefect.resource.id"])),
        related: json(related),
        payload: json({ intended: { from: s > 0 ? path[s - 1] : null, to: state.type } }),
        received: at(state.timestamp + 150),
        recorded: at(state.timestamp + 300),
        follows: null,
      });
      for (const resource of [{ "prefect.resource.id": resourceId }, ...related]) {
        rows("event_resources").push({
          id: random.uuid(),
          created: occurred,
          updated: occurred,
          occurred,
          resource_id: resource["prefect.resource.id"],
          resource_role: "prefect.resource.role" in resource
            ? resource["prefect.resource.role"] as string
            : "",
          resource: json(resource),
          event_id: eventId,
        });
      }
    }
    if (!ran) continue;
    const started = states[2].timestamp;
    const tasksPerRun = Math.floor(taskRunCount / ranCount) +
      (ranIndex < taskRunCount % ranCount ? 1 : 0);
    ranIndex++;
    for (let k = 0; k < tasksPerRun; k++) {
      const taskRunId = random.uuid();
      taskRunIds.push(taskRunId);
      const failed = last.type === "FAILED" && k === tasksPerRun - 1;
      const taskStates = ["PENDING", "RUNNING", failed ? "FAILED" : "COMPLETED"].map((
        type,
        s,
      ) => ({ id: random.uuid(), type, timestamp: started + k * 1000 + s * 300 }));
      const end = taskStates[2];
      rows("task_run").push({
        id: taskRunId,
        created: at(taskStates[0].timestamp),
        updated: at(end.timestamp),
        name: `task-${k % 4}-${k}`,
        flow_run_id: id,
        task_key: `flows.task_${k % 4}`,
        dynamic_key: String(k),
        cache_key: k % 4 === 0 ? `cache-${r % 50}-${k}` : null,
        cache_expiration: k % 4 === 0 ? at(end.timestamp + 24 * 60 * MINUTE) : null,
        task_version: "1",
        state_id: end.id,
        state_type: end.type,
        state_name: STATE_NAMES[end.type],
        state_timestamp: at(end.timestamp),
        run_count: 1,
        expected_start_time: at(taskStates[0].timestamp),
        start_time: at(taskStates[1].timestamp),
        end_time: at(end.timestamp),
        total_run_time: 0.3,
        tags: json([]),
        task_inputs: json(
          k === 0 ? {} : { x: [{ input_type: "task_run", id: taskRunIds.at(-2) }] },
        ),
        labels: json(labels),
      });
      for (const state of taskStates) {
        rows("task_run_state").push({
          id: state.id,
          created: at(state.timestamp),
          updated: at(state.timestamp),
          task_run_id: taskRunId,
          type: state.type,
          timestamp: at(state.timestamp),
          name: STATE_NAMES[state.type],
          message: state.type === "FAILED" ? "Task run encountered an exception" : null,
          state_details: json({ task_run_id: taskRunId, flow_run_id: id }),
          data: null,
        });
      }
      rows("log").push({
        id: random.uuid(),
        created: at(end.timestamp),
        updated: at(end.timestamp),
        name: "prefect.task_runs",
        level: failed ? 40 : 20,
        flow_run_id: id,
        task_run_id: taskRunId,
        message: failed
          ? `Task run task-${k} failed`
          : `Finished in state ${STATE_NAMES[end.type]}`,
        timestamp: at(end.timestamp),
      });
    }
    // Every 25th run that has task runs before it is a subflow of an earlier task run.
    if (r % 25 === 24 && taskRunIds.length > tasksPerRun) {
      subflowLinks.push({
        flowRunId: id,
        parentTaskRunId: taskRunIds[random.int(taskRunIds.length - tasksPerRun)],
      });
    }
    rows("log").push({
      id: random.uuid(),
      created: at(last.timestamp),
      updated: at(last.timestamp),
      name: "prefect.flow_runs",
      level: last.type === "COMPLETED" ? 20 : 40,
      flow_run_id: id,
      task_run_id: null,
      message: `Flow run run-${r} finished in state ${STATE_NAMES[last.type]}`,
      timestamp: at(last.timestamp),
    });
  }
  for (const link of subflowLinks) {
    const run = rows("flow_run").find((row) => row.id === link.flowRunId)!;
    run.parent_task_run_id = link.parentTaskRunId;
  }

  // Artifacts (several per key) and their collections (the latest per key).
  const runsWithTasks = rows("task_run");
  const artifactCount = Math.max(4, Math.floor(flowRunCount / 5));
  for (let a = 0; a < artifactCount && runsWithTasks.length > 0; a++) {
    const task = random.pick(runsWithTasks);
    const created = at(BASE_TIME + a * 37 * MINUTE);
    rows("artifact").push({
      id: random.uuid(),
      created,
      updated: created,
      key: a % 5 === 4 ? null : `report-${a % 40}`,
      type: random.pick(["markdown", "table", "link", "result"]),
      data: json({ rows: a, summary: `artifact ${a}` }),
      description: `Artifact number ${a}`,
      metadata_: json({ source: "sample" }),
      flow_run_id: task.flow_run_id,
      task_run_id: task.id,
    });
  }
  const latest = new Map<string, Row>();
  for (const artifact of rows("artifact")) {
    if (artifact.key === null) continue;
    const seen = latest.get(artifact.key as string);
    if (
      !seen || (artifact.created as string) > (seen.created as string) ||
      (artifact.created === seen.created && (artifact.id as string) > (seen.id as string))
    ) latest.set(artifact.key as string, artifact);
  }
  for (const artifact of latest.values()) {
    rows("artifact_collection").push({
      id: random.uuid(),
      created: artifact.created,
      updated: artifact.updated,
      key: artifact.key,
      latest_id: artifact.id,
      type: artifact.type,
      data: artifact.data,
      description: artifact.description,
      metadata_: artifact.metadata_,
      flow_run_id: artifact.flow_run_id,
      task_run_id: artifact.task_run_id,
    });
  }

  // Variables: mostly strings, as most real variables are; a few numbers and objects.
  for (let v = 0; v < 25; v++) {
    const value = v % 5 === 4 ? (v % 10 === 4 ? v * 10 : { retries: v, hosts: ["a", "b"] }) : (
      `value-${v}${v === 3 ? " with 'quotes' and \"doubles\"" : ""}`
    );
    rows("variable").push({
      id: random.uuid(),
      created: at(BASE_TIME + v * MINUTE),
      updated: at(BASE_TIME + v * MINUTE),
      name: `var_${v}`,
      value: json(value),
      tags: json(v % 2 ? ["secret"] : []),
    });
  }

  // Blocks: a few types, one schema each, some documents.
  for (const [b, slug] of ["s3-bucket", "secret", "slack-webhook", "docker-registry"].entries()) {
    const typeId = random.uuid();
    const schemaId = random.uuid();
    rows("block_type").push({
      id: typeId,
      created: at(BASE_TIME),
      updated: at(BASE_TIME),
      name: slug.replaceAll("-", " "),
      slug,
      logo_url: null,
      documentation_url: `https://docs.example.com/blocks/${slug}`,
      description: `The ${slug} block`,
      code_example: `from blocks import load\nload("${slug}/my-block")`,
      is_protected: b === 1,
    });
    rows("block_schema").push({
      id: schemaId,
      created: at(BASE_TIME),
      updated: at(BASE_TIME),
      checksum: `sha256:${random.uuid().replaceAll("-", "")}`,
      fields: json({ title: slug, type: "object", properties: { value: { type: "string" } } }),
      capabilities: json(b === 0 ? ["read-path", "write-path"] : []),
      version: "3.1.0",
      block_type_id: typeId,
    });
    for (let d = 0; d < 3; d++) {
      rows("block_document").push({
        id: random.uuid(),
        created: at(BASE_TIME + d * MINUTE),
        updated: at(BASE_TIME + d * MINUTE),
        name: d === 2 ? `anonymous-${slug}` : `${slug}-${d}`,
        data: json({ value: `secret-${b}-${d}` }),
        is_anonymous: d === 2,
        block_type_id: typeId,
        block_schema_id: schemaId,
      });
    }
  }

  // Concurrency limits.
  for (const [c, tag] of ["database", "api", "gpu"].entries()) {
    rows("concurrency_limit").push({
      id: random.uuid(),
      created: at(BASE_TIME),
      updated: at(BASE_TIME),
      tag,
      concurrency_limit: 5 * (c + 1),
      active_slots: json(taskRunIds.slice(c, c + c)),
    });
    rows("concurrency_limit_v2").push({
      id: random.uuid(),
      created: at(BASE_TIME),
      updated: at(BASE_TIME),
      active: c !== 2,
      name: `limit-${tag}`,
      limit: 10 * (c + 1),
      active_slots: c,
      denied_slots: 0,
      slot_decay_per_second: c === 1 ? 0.5 : 0,
      avg_slot_occupancy_seconds: 2,
    });
  }

  // Deployments point at their active version, set after both exist.
  for (const deployment of rows("deployment")) {
    deployment.version_id = activeVersion.get(deployment.id as string) ?? null;
  }
  return tables;
}

/** Insertion order: parents before children. */
const TABLE_ORDER = [
  "work_pool",
  "work_queue",
  "flow",
  "deployment",
  "deployment_version",
  "flow_run",
  "flow_run_state",
  "task_run",
  "task_run_state",
  "log",
  "events",
  "event_resources",
  "artifact",
  "artifact_collection",
  "variable",
  "block_type",
  "block_schema",
  "block_document",
  "concurrency_limit",
  "concurrency_limit_v2",
];

/**
 * Insert the sample into a database at the reference schema's head, in one transaction.
 * Columns that point both ways (`deployment.version_id`, `flow_run.parent_task_run_id`) are
 * filled in after their targets exist.
 */
export async function loadSampleData(
  connection: Connection,
  options: SampleDataOptions = {},
): Promise<SampleDataCounts> {
  const tables = generateSampleRows(options);
  const counts: SampleDataCounts = {};
  await connection.execute("BEGIN");
  try {
    for (const table of TABLE_ORDER) {
      const rows = tables.get(table) ?? [];
      if (table === "deployment") {
        await insertRows(connection, table, rows.map((row) => ({ ...row, version_id: null })));
      } else if (table === "flow_run") {
        await insertRows(
          connection,
          table,
          rows.map((row) => ({ ...row, parent_task_run_id: null })),
        );
      } else {
        await insertRows(connection, table, rows);
      }
      counts[table] = rows.length;
    }
    for (const row of tables.get("deployment") ?? []) {
      if (row.version_id === null) continue;
      await connection.execute("UPDATE deployment SET version_id = $1 WHERE id = $2", [
        row.version_id,
        row.id,
      ]);
    }
    for (const row of tables.get("flow_run") ?? []) {
      if (row.parent_task_run_id === null) continue;
      await connection.execute("UPDATE flow_run SET parent_task_run_id = $1 WHERE id = $2", [
        row.parent_task_run_id,
        row.id,
      ]);
    }
    await connection.execute("COMMIT");
  } catch (error) {
    await connection.execute("ROLLBACK").catch(() => {});
    throw error;
  }
  return counts;
}

if (import.meta.main) {
  const { parseArgs } = await import("node:util");
  const { default: process } = await import("node:process");
  const { openConnection } = await import("../lib/db/open.ts");
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      flows: { type: "string" },
      "flow-runs": { type: "string" },
      "task-runs": { type: "string" },
      seed: { type: "string" },
    },
  });
  const url = values.url ?? process.env.DATABASE_URL;
  if (!url) {
    console.error("error: give --url or set DATABASE_URL");
    process.exit(2);
    throw new Error("unreachable");
  }
  const number = (value: string | undefined) => value === undefined ? undefined : Number(value);
  const connection = openConnection(url);
  try {
    const started = performance.now();
    const counts = await loadSampleData(connection, {
      flows: number(values.flows),
      flowRuns: number(values["flow-runs"]),
      taskRuns: number(values["task-runs"]),
      seed: number(values.seed),
    });
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    for (const [table, count] of Object.entries(counts)) console.log(`${table}: ${count}`);
    console.log(`${total} rows in ${Math.round(performance.now() - started)} ms`);
  } finally {
    await connection.close();
  }
}
