/**
 * How the benchmark measures: a command's wall-clock time from spawn to exit, and its peak
 * resident memory from GNU time (`/usr/bin/time -f %M`, which adds one fork and wait), several
 * runs and their median; and what the machine is.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";

/** One run of a command. */
export interface Sample {
  readonly ms: number;
  /** Peak resident set size in KiB, or null without GNU time. */
  readonly rssKib: number | null;
}

/** Several runs of one command. */
export interface Measurement {
  readonly runs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** The median of the runs' peak RSS, KiB. */
  readonly rssKib: number | null;
  /**
   * Each run's time, in round order (`measureSideBySide`: the run of round i is at i), so that
   * two contenders can be compared round by round; absent where runs are not in rounds.
   */
  readonly timesMs?: readonly number[];
}

const GNU_TIME = fs.existsSync("/usr/bin/time") &&
    spawnSync("/usr/bin/time", ["-f", "%M", "true"], { encoding: "utf8" }).status === 0
  ? "/usr/bin/time"
  : null;

/** A command to run: argv, working directory, extra environment. */
export interface Command {
  readonly argv: readonly string[];
  readonly cwd?: string;
  readonly env?: Record<string, string>;
}

/** Run once, timed. Throws with the command's output when it fails. */
export function runOnce(command: Command, rssFile: string): Sample {
  const argv = GNU_TIME
    ? [GNU_TIME, "-f", "%M", "-o", rssFile, ...command.argv]
    : [...command.argv];
  const started = performance.now();
  const result = spawnSync(argv[0], argv.slice(1), {
    cwd: command.cwd,
    env: { ...process.env, NO_COLOR: "1", ...command.env },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - started;
  if (result.status !== 0) {
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n").slice(-8);
    throw new Error(
      `${command.argv.join(" ")} exited ${result.status ?? result.signal}: ${output.join("\n")}`,
    );
  }
  let rssKib: number | null = null;
  if (GNU_TIME) {
    const text = fs.readFileSync(rssFile, "utf8").trim().split("\n").pop() ?? "";
    rssKib = Number(text) || null;
  }
  return { ms, rssKib };
}

/**
 * How long `a` takes against `b`: the median of their ratios round by round, over the rounds
 * both ran in (the runs of one round are moments apart, so a busy stretch of the machine lands
 * on both sides of each ratio); the ratio of their medians where there are no rounds.
 */
export function pairedRatio(a: Measurement, b: Measurement): number {
  const rounds = Math.min(a.timesMs?.length ?? 0, b.timesMs?.length ?? 0);
  if (rounds === 0) return a.medianMs / b.medianMs;
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) ratios.push(a.timesMs![i] / b.timesMs![i]);
  return median(ratios);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One contender in a side-by-side measurement. */
export interface Contender {
  readonly key: string;
  /** The command, or null with `why` when it cannot run here. */
  readonly command: Command | null;
  readonly why?: string;
  readonly runs: number;
}

/** A measurement, or why there is none. */
export type Outcome = Measurement | { readonly notMeasured: string };

/** True for a measurement. */
export function isMeasured(outcome: Outcome | undefined): outcome is Measurement {
  return outcome !== undefined && "medianMs" in outcome;
}

/**
 * Measure contenders side by side: one untimed warm-up each, then rounds in which every
 * contender runs once (each after `before`), so that a busy moment of the machine lands on
 * all of them rather than on one. A contender that fails is reported with its error and leaves
 * the rounds.
 */
export function measureSideBySide(
  contenders: readonly Contender[],
  options: { before?: () => void; warmup?: boolean } = {},
): Map<string, Outcome> {
  const rssFile = path.join(os.tmpdir(), `strata-bench-rss-${process.pid}`);
  const samples = new Map<string, Sample[]>();
  const outcomes = new Map<string, Outcome>();
  const fail = (key: string, error: unknown) => {
    const message = (error as Error).message.split("\n").slice(0, 4).join(" / ");
    outcomes.set(key, { notMeasured: message });
  };
  try {
    for (const c of contenders) {
      if (!c.command) outcomes.set(c.key, { notMeasured: c.why ?? "cannot run here" });
      else samples.set(c.key, []);
    }
    if (options.warmup !== false) {
      for (const c of contenders) {
        if (!samples.has(c.key) || outcomes.has(c.key)) continue;
        try {
          options.before?.();
          runOnce(c.command!, rssFile);
        } catch (error) {
          fail(c.key, error);
        }
      }
    }
    const rounds = Math.max(0, ...contenders.map((c) => c.runs));
    for (let round = 0; round < rounds; round++) {
      for (const c of contenders) {
        if (round >= c.runs || outcomes.has(c.key) || !samples.has(c.key)) continue;
        try {
          options.before?.();
          samples.get(c.key)!.push(runOnce(c.command!, rssFile));
        } catch (error) {
          fail(c.key, error);
        }
      }
    }
  } finally {
    fs.rmSync(rssFile, { force: true });
  }
  for (const [key, list] of samples) {
    if (outcomes.has(key) || list.length === 0) continue;
    const times = list.map((s) => s.ms);
    const rss = list.map((s) => s.rssKib).filter((r): r is number => r !== null);
    outcomes.set(key, {
      runs: list.length,
      medianMs: median(times),
      minMs: Math.min(...times),
      maxMs: Math.max(...times),
      rssKib: rss.length > 0 ? median(rss) : null,
      timesMs: times,
    });
  }
  return outcomes;
}

/** Measure one command (see {@link measureSideBySide}). */
export function measure(
  command: Command,
  options: { runs: number; before?: () => void; warmup?: boolean },
): Outcome {
  return measureSideBySide([{ key: "one", command, runs: options.runs }], options).get("one")!;
}

/** The output of a command, trimmed, or null when it cannot run. */
export function output(argv: readonly string[]): string | null {
  const result = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
  return result.status === 0 ? `${result.stdout}${result.stderr}`.trim() : null;
}

/** What the report says about the machine. */
export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memory: string;
  readonly os: string;
}

/** The 1-minute load average (0 where the OS has none). */
export function loadAverage(): number {
  return os.loadavg()[0];
}

/** CPU model, cores, memory, OS and kernel. */
export function machineInfo(): MachineInfo {
  const release = (() => {
    try {
      const text = fs.readFileSync("/etc/os-release", "utf8");
      return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? os.type();
    } catch {
      return os.type();
    }
  })();
  return {
    cpu: os.cpus()[0]?.model?.trim() ?? "unknown",
    cores: os.cpus().length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${release}, ${os.type()} ${os.release()} ${os.arch()}`,
  };
}

/** True when GNU time measures peak memory here. */
export const measuresMemory = GNU_TIME !== null;
