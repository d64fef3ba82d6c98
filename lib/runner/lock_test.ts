import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { acquireLockfile, acquireMutex, LockTimeoutError } from "./lock.ts";

function tempLockPath(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "strata-lock-")), "db.sqlite.lock");
}

Deno.test("lockfile: a live holder is waited for, then reported", async () => {
  const file = tempLockPath();
  const held = await acquireLockfile(file, { command: "upgrade head", timeoutMs: 1000 });
  const holder = JSON.parse(fs.readFileSync(file, "utf8"));
  assert.equal(holder.pid, Deno.pid);
  assert.equal(holder.command, "upgrade head");
  const warnings: string[] = [];
  await assert.rejects(
    acquireLockfile(file, { command: "x", timeoutMs: 150, onWarning: (w) => warnings.push(w) }),
    (error: unknown) =>
      error instanceof LockTimeoutError && error.message.includes(`pid ${Deno.pid}`) &&
      error.message.includes("upgrade head"),
  );
  assert.match(warnings[0], /waiting for the lock held by pid/);
  await held.release();
  assert.equal(fs.existsSync(file), false);
  await held.release(); // idempotent
});

Deno.test("lockfile: the lock is handed over when the holder releases it", async () => {
  const file = tempLockPath();
  const first = await acquireLockfile(file, { command: "a", timeoutMs: 1000 });
  setTimeout(() => first.release(), 100);
  const second = await acquireLockfile(file, { command: "b", timeoutMs: 5000 });
  assert.equal(JSON.parse(fs.readFileSync(file, "utf8")).command, "b");
  await second.release();
});

Deno.test("lockfile: a stale lock (dead pid on this host) is reclaimed with a warning", async () => {
  const file = tempLockPath();
  const dead = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  const deadPid = Number(dead.stdout.trim());
  fs.writeFileSync(
    file,
    JSON.stringify({ pid: deadPid, host: os.hostname(), command: "old", startedAt: "then" }),
  );
  const warnings: string[] = [];
  const lock = await acquireLockfile(file, {
    command: "new",
    timeoutMs: 1000,
    onWarning: (w) => warnings.push(w),
  });
  assert.match(warnings.join("\n"), new RegExp(`reclaimed a stale lock left by pid ${deadPid}`));
  assert.equal(JSON.parse(fs.readFileSync(file, "utf8")).command, "new");
  await lock.release();
  assert.deepEqual(fs.readdirSync(path.dirname(file)), [], "no aside files left behind");
});

Deno.test("lockfile: a lock held on another host is never judged stale", async () => {
  const file = tempLockPath();
  fs.writeFileSync(
    file,
    JSON.stringify({ pid: 999999, host: "elsewhere", command: "remote", startedAt: "now" }),
  );
  await assert.rejects(
    acquireLockfile(file, { command: "x", timeoutMs: 100 }),
    /held by pid 999999 on elsewhere/,
  );
  assert.ok(fs.existsSync(file));
});

Deno.test("mutex: callers in one process run one at a time, in order", async () => {
  const order: string[] = [];
  const work = async (name: string) => {
    const lock = await acquireMutex("db");
    try {
      order.push(`${name}:start`);
      await new Promise((r) => setTimeout(r, 10));
      order.push(`${name}:end`);
    } finally {
      await lock.release();
    }
  };
  await Promise.all([work("a"), work("b"), work("c")]);
  assert.deepEqual(order, ["a:start", "a:end", "b:start", "b:end", "c:start", "c:end"]);
});

Deno.test("lockfile: our own pid, from an earlier process (a container restarted as pid 1), is stale", async () => {
  const file = tempLockPath();
  fs.writeFileSync(
    file,
    JSON.stringify({ pid: Deno.pid, host: os.hostname(), command: "crashed", startedAt: "then" }),
  );
  const warnings: string[] = [];
  const lock = await acquireLockfile(file, {
    command: "new",
    timeoutMs: 1000,
    onWarning: (w) => warnings.push(w),
  });
  assert.match(warnings.join("\n"), /reclaimed a stale lock left by pid/);
  // Held by this process now: a second acquisition waits instead of reclaiming it.
  await assert.rejects(acquireLockfile(file, { command: "x", timeoutMs: 100 }), LockTimeoutError);
  // The wait is shown in tenths of a second (what is left of a timeout, not 0.299 s).
  await assert.rejects(
    acquireLockfile(file, { command: "x", timeoutMs: 299 }),
    /within 0\.3 s: held by/,
  );
  await lock.release();
});

Deno.test("lockfile: a live pid that is another process than the holder (pid reused) is stale", {
  ignore: !fs.existsSync("/proc/self/stat"),
}, async () => {
  const file = tempLockPath();
  // The parent process is alive, but it is not the process that wrote this file.
  fs.writeFileSync(
    file,
    JSON.stringify({
      pid: Deno.ppid,
      host: os.hostname(),
      command: "old",
      startedAt: "then",
      processStart: "another-boot:1",
    }),
  );
  const lock = await acquireLockfile(file, { command: "new", timeoutMs: 1000 });
  assert.equal(JSON.parse(fs.readFileSync(file, "utf8")).command, "new");
  await lock.release();
});

Deno.test("lockfile: a file being written (empty) is waited for, not reclaimed at once", async () => {
  const file = tempLockPath();
  fs.writeFileSync(file, "");
  await assert.rejects(
    acquireLockfile(file, { command: "x", timeoutMs: 300 }),
    LockTimeoutError,
  );
  assert.equal(fs.readFileSync(file, "utf8"), "", "left alone");
});

Deno.test("lockfile: a place it cannot create the file in is a clear error", async () => {
  const file = path.join(os.tmpdir(), `strata-missing-${Date.now()}`, "db.lock");
  await assert.rejects(
    acquireLockfile(file, { command: "x", timeoutMs: 100 }),
    /Cannot create the lockfile .*db\.lock/,
  );
});

Deno.test("mutex: a waiter gives up after its timeout; those behind it still get their turn", async () => {
  const first = await acquireMutex("timeout-db");
  const started = Date.now();
  await assert.rejects(acquireMutex("timeout-db", 100), LockTimeoutError);
  assert.ok(Date.now() - started < 1000);
  const third = acquireMutex("timeout-db", 5000);
  await first.release();
  await (await third).release();
});
