/**
 * The one place that knows which runtime strata runs on, and the edge to the file system,
 * processes and the terminal.
 *
 * Deno and Bun both implement the `node:` modules used here, so most functions need no
 * branch; {@link runtimeInfo} asks which runtime it is, and {@link nativeSha256Hex} uses Bun's
 * own hashing where it is there.
 *
 * @module
 */

import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import process from "node:process";

/** The runtime strata is running on, with its version. */
export interface RuntimeInfo {
  readonly name: "deno" | "bun" | "node";
  readonly version: string;
  /** True inside a compiled single-file binary. */
  readonly compiled: boolean;
}

/** Which runtime this is (the only runtime detection in strata). */
export function runtimeInfo(): RuntimeInfo {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  if (typeof g.Bun !== "undefined") {
    // A compiled Bun binary runs its entry from the embedded `/$bunfs/` file system.
    const compiled = typeof g.Bun.main === "string" &&
      (g.Bun.main.startsWith("/$bunfs/") || g.Bun.main.startsWith("B:/~BUN/"));
    return { name: "bun", version: g.Bun.version, compiled };
  }
  if (typeof g.Deno !== "undefined") {
    const compiled = typeof g.Deno.build !== "undefined" &&
      String(g.Deno.mainModule ?? "").includes("/deno-compile-");
    return { name: "deno", version: g.Deno.version.deno, compiled };
  }
  return { name: "node", version: process.versions.node, compiled: false };
}

/**
 * The runtime's own synchronous SHA-256 of a string's UTF-8 bytes, as lowercase hex: Bun's
 * (`Bun.SHA256`, a global, nothing to load). Null on Deno, whose only synchronous one is in
 * `node:crypto`, which takes longer to load than hashing a long chain in JavaScript does.
 */
export const nativeSha256Hex: ((text: string) => string) | null = (() => {
  // deno-lint-ignore no-explicit-any
  const sha256 = (globalThis as any).Bun?.SHA256;
  return typeof sha256?.hash === "function"
    ? (text: string) => sha256.hash(text, "hex") as string
    : null;
})();

/** Command-line arguments after the program and script. */
export function args(): string[] {
  return process.argv.slice(2);
}

/** An environment variable, or undefined. */
export function env(name: string): string | undefined {
  return process.env[name];
}

/** The current directory. */
export function cwd(): string {
  return process.cwd();
}

/** Set the exit code the process will end with. */
export function setExitCode(code: number): void {
  process.exitCode = code;
}

/**
 * Output goes straight to file descriptors 1 and 2 with blocking writes: creating
 * `process.stdout` loads the whole stream machinery, a noticeable part of a short command's
 * start-up. When a direct write cannot finish (a non-blocking pipe that is full, or any
 * other error), that stream and every later write take over, in order, as before.
 */
const streams = { 1: false, 2: false };
const encoder = new TextEncoder();

function writeFd(fd: 1 | 2, text: string): void {
  const stream = () => fd === 1 ? process.stdout : process.stderr;
  if (streams[fd]) {
    stream().write(text);
    return;
  }
  const data = encoder.encode(text);
  let offset = 0;
  try {
    while (offset < data.length) offset += fs.writeSync(fd, data, offset, data.length - offset);
  } catch {
    streams[fd] = true;
    stream().write(data.subarray(offset));
  }
}

/** Exit once stdout and stderr have been written (Bun writes to pipes asynchronously, and
 * exiting at once would cut the output at 64 KiB). */
export async function exit(code: number): Promise<never> {
  if (streams[1]) {
    await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
  }
  if (streams[2]) {
    await new Promise<void>((resolve) => process.stderr.write("", () => resolve()));
  }
  process.exit(code);
}

/** Write text to stdout. */
export function writeOut(text: string): void {
  writeFd(1, text);
}

/** Write text to stderr. */
export function writeErr(text: string): void {
  writeFd(2, text);
}

/**
 * Linux device numbers (major) of character devices that are terminals: virtual consoles and
 * serial lines (4), `/dev/tty` and the console (5), pseudo-terminals (136–143); and of memory
 * devices (1: `/dev/null`, `/dev/zero`), which never are.
 */
const TERMINAL_MAJORS = new Set([4, 5, 136, 137, 138, 139, 140, 141, 142, 143]);
const MEMORY_MAJOR = 1;

/** True when stdout is a terminal. */
export function stdoutIsTty(): boolean {
  return isTty(1);
}

/** True when standard error is a terminal (its colour is decided apart from stdout's). */
export function stderrIsTty(): boolean {
  return isTty(2);
}

function isTty(fd: 1 | 2): boolean {
  // A pipe or a file is never a terminal: answer without creating `process.stdout` (which
  // loads the stream modules, a few ms of a short command); on Linux the device number of a
  // character device answers too. Only another device needs the real question.
  let stat: fs.Stats;
  try {
    stat = fs.fstatSync(fd);
  } catch {
    return false;
  }
  if (!stat.isCharacterDevice()) return false;
  if (process.platform === "linux") {
    const major = (stat.rdev >> 8) & 0xfff;
    if (major === MEMORY_MAJOR) return false;
    if (TERMINAL_MAJORS.has(major)) return true;
  }
  return Boolean((fd === 1 ? process.stdout : process.stderr).isTTY);
}

/** The process id. */
export function pid(): number {
  return process.pid;
}

let os: typeof import("node:os") | undefined;

/** This machine's host name. */
export function hostname(): string {
  // Loaded on first use: evaluating `node:os` costs a short command (`current`) about a ms.
  os ??= process.getBuiltinModule("node:os") as typeof import("node:os");
  return os.hostname();
}

/** True when a process with this pid exists on this host. */
export function isProcessAlive(processId: number): boolean {
  try {
    process.kill(processId, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as { code?: string }).code === "EPERM";
  }
}

/** Read a UTF-8 file. */
export function readTextFile(file: string): Promise<string> {
  return fsp.readFile(file, "utf8");
}

/** Write a UTF-8 file (creating parent directories). */
export async function writeTextFile(file: string, text: string): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await fsp.writeFile(file, text, "utf8");
}

/**
 * Create a file that must not exist yet (`O_EXCL`), atomically. Returns false when it exists.
 */
export function createExclusive(file: string, text: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, "wx", 0o644);
  } catch (error) {
    if ((error as { code?: string }).code === "EEXIST") return false;
    throw error;
  }
  try {
    fs.writeSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** Remove a file; a missing file is not an error. */
export function removeFile(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
  }
}

/** Read a file's text, or null when it does not exist. */
export function readTextFileIfExists(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return null;
    throw error;
  }
}

/** A file's bytes, or null when it does not exist. */
export function readFileIfExists(file: string): Uint8Array | null {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return null;
    throw error;
  }
}

/** Names of the entries of a directory, or null when it does not exist. */
export async function listDir(dir: string): Promise<string[] | null> {
  try {
    return await fsp.readdir(dir);
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return null;
    throw error;
  }
}

/** True when a path exists and is a directory. */
export function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** Import a module from a file path. */
export async function importModule(file: string): Promise<Record<string, unknown>> {
  // Loaded here, not at start-up: only chains with TypeScript migrations need it.
  const { pathToFileURL } = await import("node:url");
  return await import(pathToFileURL(path.resolve(file)).href);
}

/** A path relative to the current directory when that is shorter, for output. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}

/** Sleep for some milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Re-exported for the edge modules that need paths. */
export { path };
