/**
 * The scratch image without a container engine: `scripts/image_rootfs.sh` assembles the
 * image's root file system exactly as the Dockerfile's build stage does, and these tests run
 * the binary inside it as the image would: root directory switched to it, only `/proc` and
 * `/dev` mounted (plus the `/data` volume), working directory `/data`, uid and gid 65532, an
 * empty environment but for `DATABASE_URL`. Mounts live in a private mount namespace
 * (`unshare --mount`), so they disappear with the process whatever happens.
 *
 * Needs root, util-linux `unshare` and `ldd`. Without them the tests are ignored, except under
 * `CI`, where they fail and say what is missing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";
import { ensureBinary } from "../scripts/compile.ts";
import { findOrInstallBun } from "../scripts/bun.ts";
import { loadProjectChain, locateProject } from "../lib/project.ts";
import type { DialectName } from "../lib/revision/revision.ts";
import { POSTGRES, withTestDatabase } from "./support/pg.ts";
import { requiredTest, type Requirement } from "./support/requirement.ts";
import { type CliResult, ROOT, runCommand } from "./support/runtimes.ts";
import { writeFiles } from "./support/tmp.ts";

const IMAGE_USER = "65532";
const ROOTFS_SCRIPT = path.join(ROOT, "scripts", "image_rootfs.sh");

function has(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
}

/** Why these tests cannot run here, or null when they can. */
function missingPrerequisite(): string | null {
  if (process.platform !== "linux") return "the image is Linux-only";
  if (process.getuid?.() !== 0) return "chroot and mounts need root";
  for (const command of ["unshare", "mount", "ldd", "bash", "env"]) {
    if (!has(command)) return `${command} is not installed`;
  }
  if (!fs.readFileSync("/proc/filesystems", "utf8").includes("overlay")) {
    return "the kernel has no overlay file system";
  }
  if (findOrInstallBun(() => {}) === null) return "Bun cannot be found or installed";
  return null;
}

/** What the image tests need on the host. */
const IMAGE: Requirement = {
  missing: missingPrerequisite(),
  remedy: "run as root on Linux with util-linux, overlayfs and Bun",
};

let rootfs: string | undefined;
/** The image's root file system, assembled once for this file, removed when it unloads. */
function imageRoot(): string {
  if (rootfs) return rootfs;
  const binary = ensureBinary("linux-x64");
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), "strata-image-"));
  globalThis.addEventListener("unload", () => fs.rmSync(parent, { recursive: true, force: true }));
  const dir = path.join(parent, "rootfs");
  const result = spawnSync(ROOTFS_SCRIPT, [binary, dir], { encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`Cannot assemble the image's root file system: ${result.stderr}`);
  }
  rootfs = dir;
  return dir;
}

function imageTest(name: string, fn: () => Promise<void>): void {
  requiredTest(`[image] ${name}`, IMAGE, fn);
}

/** A directory to bind-mount as the image's `/data`, owned by the image's user. */
async function withDataDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "strata-data-"));
  try {
    fs.chmodSync(dir, 0o755);
    fs.chownSync(dir, Number(IMAGE_USER), Number(IMAGE_USER));
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Run `/strata ARGS` in the image as a container runtime would: the image read-only under a
 * writable overlay layer holding only the three files Docker writes into every container
 * (`/etc/hosts`, `/etc/resolv.conf`, `/etc/hostname`), `/proc` and `/dev` mounted, `data` at
 * `/data`, working directory `/data`, uid:gid 65532, only these environment variables.
 */
function runInImage(
  data: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const image = imageRoot();
  const layer = fs.mkdtempSync(path.join(os.tmpdir(), "strata-layer-"));
  writeFiles(path.join(layer, "upper"), {
    "etc/hosts": "127.0.0.1\tlocalhost\n",
    "etc/resolv.conf": fs.existsSync("/etc/resolv.conf")
      ? fs.readFileSync("/etc/resolv.conf", "utf8")
      : "",
    "etc/hostname": "strata-image-test\n",
  });
  fs.mkdirSync(path.join(layer, "work"));
  fs.mkdirSync(path.join(layer, "root"));
  const script = [
    'image="$0"; layer="$1"; data="$2"; shift 2',
    'root="$layer/root"',
    'mount -t overlay overlay -o "lowerdir=$image,upperdir=$layer/upper,workdir=$layer/work" "$root"',
    'mount -t proc proc "$root/proc"',
    'mount --bind /dev "$root/dev"',
    'mount --bind "$data" "$root/data"',
    `exec env -i ${
      Object.entries({ NO_COLOR: "1", ...env }).map(([k, v]) => `${k}=${shellQuote(v)}`).join(" ")
    } unshare --root="$root" --wd=/data --setgid=${IMAGE_USER} --setuid=${IMAGE_USER} /strata "$@"`,
  ].join("\n");
  return runCommand(
    [
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      script,
      image,
      layer,
      data,
      ...args,
    ],
    { cwd: "/" },
  ).finally(() => fs.rmSync(layer, { recursive: true, force: true }));
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

function ok(result: CliResult, what: string): void {
  assert.equal(
    result.code,
    0,
    `${what} exited ${result.code}:\n${result.stdout}\n${result.stderr}`,
  );
}

async function referenceHeads(dialect: DialectName): Promise<string[]> {
  const chain = await loadProjectChain(
    locateProject({ dir: path.join(ROOT, "migrations") }),
    dialect,
  );
  return [...chain.graph.heads].sort();
}

const PROJECT_SQL = (dialect: string) =>
  `-- revision: 1ace0000000${dialect === "sqlite" ? 1 : 2}
-- down_revision: none
-- message: create widget

-- migrate:up
CREATE TABLE widget (id INTEGER PRIMARY KEY, name TEXT NOT NULL);

-- migrate:down
DROP TABLE widget;
`;

const PROJECT_TS = (dialect: string) =>
  `import type { MigrationContext } from "@strata/strata";

export const revision = "1ace0000001${dialect === "sqlite" ? 1 : 2}";
export const downRevision = "1ace0000000${dialect === "sqlite" ? 1 : 2}";

export async function upgrade({ sql }: MigrationContext): Promise<void> {
  await sql.unsafe("CREATE INDEX ix_widget_name ON widget (name)");
}

export async function downgrade({ sql }: MigrationContext): Promise<void> {
  await sql.unsafe("DROP INDEX ix_widget_name");
}
`;

/** A project chain for one dialect under `data/project/<dialect>/`, as a volume would hold it. */
function writeProject(data: string, dialect: DialectName): string {
  const id = dialect === "sqlite" ? 1 : 2;
  writeFiles(path.join(data, "project"), {
    [`${dialect}/2026_04_01_090000_1ace0000000${id}_create_widget.sql`]: PROJECT_SQL(dialect),
    [`${dialect}/2026_04_01_091000_1ace0000001${id}_index_widget.ts`]: PROJECT_TS(dialect),
  });
  return "/data/project";
}

function listTree(root: string, rel = ""): string[] {
  const entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
  return entries.flatMap((entry) => {
    const child = `${rel}/${entry.name}`;
    if (entry.isDirectory()) {
      const inner = listTree(root, child);
      return inner.length > 0 ? inner : [child];
    }
    return [child];
  });
}

imageTest("the root file system holds exactly the listed files, and no shell", () => {
  const root = imageRoot();
  const listed = spawnSync(ROOTFS_SCRIPT, ["--list", path.join(root, "strata")], {
    encoding: "utf8",
  });
  assert.equal(listed.status, 0, listed.stderr);
  assert.deepEqual(listTree(root).sort(), listed.stdout.trim().split("\n").sort());
  assert.ok(!fs.existsSync(path.join(root, "bin")), "the image has a /bin");
  const data = fs.statSync(path.join(root, "data"));
  assert.equal(`${data.uid}:${data.gid}`, `${IMAGE_USER}:${IMAGE_USER}`);
  return Promise.resolve();
});

imageTest("SQLite in /data as uid 65532: embedded chain, then a project's chain", async () => {
  const heads = await referenceHeads("sqlite");
  await withDataDir(async (data) => {
    const version = await runInImage(data, ["--version"]);
    ok(version, "--version");
    assert.match(version.stdout, /^strata .*compiled; SQLite 3\./);

    const env = { DATABASE_URL: "sqlite:/data/app.db" };
    ok(await runInImage(data, ["upgrade"], env), "upgrade (embedded)");
    const current = await runInImage(data, ["--json", "current"], env);
    ok(current, "current (embedded)");
    const report = JSON.parse(current.stdout);
    assert.equal(report.chain, "embedded:migrations/sqlite");
    assert.deepEqual(report.revisions.map((r: { revision: string }) => r.revision).sort(), heads);
    assert.equal(fs.statSync(path.join(data, "app.db")).uid, Number(IMAGE_USER));

    const dir = writeProject(data, "sqlite");
    const projectEnv = { DATABASE_URL: "sqlite:project.db" }; // relative: WORKDIR is /data
    ok(await runInImage(data, ["--dir", dir, "upgrade", "head"], projectEnv), "upgrade (--dir)");
    const projectCurrent = await runInImage(data, ["--dir", dir, "current"], projectEnv);
    ok(projectCurrent, "current (--dir)");
    assert.match(projectCurrent.stdout, /1ace00000011/);
    const db = new DatabaseSync(path.join(data, "project.db"));
    try {
      const row = db.prepare("SELECT version_num FROM alembic_version").get() as {
        version_num: string;
      };
      assert.equal(row.version_num, "1ace00000011");
      const index = db.prepare("SELECT name FROM sqlite_master WHERE name = 'ix_widget_name'")
        .get();
      assert.ok(index, "the .ts migration did not run inside the image");
    } finally {
      db.close();
    }
  });
});

requiredTest(
  "[image] [postgres] PostgreSQL over TCP as uid 65532: --wait, upgrade, current",
  [IMAGE, POSTGRES],
  () =>
    withTestDatabase(async (url) => {
      const heads = await referenceHeads("postgresql");
      const pgUrl = new URL(url);
      // A name, not an address: resolved through the /etc/hosts a container runtime provides.
      pgUrl.hostname = "localhost";
      await withDataDir(async (data) => {
        const env = { DATABASE_URL: pgUrl.toString() };
        ok(await runInImage(data, ["upgrade", "--wait"], env), "upgrade --wait (embedded)");
        const current = await runInImage(data, ["--json", "current"], env);
        ok(current, "current (embedded)");
        const report = JSON.parse(current.stdout);
        assert.equal(report.chain, "embedded:migrations/postgresql");
        assert.deepEqual(
          report.revisions.map((r: { revision: string }) => r.revision).sort(),
          heads,
        );

        // A project's chain from the volume.
        const dir = writeProject(data, "postgresql");
        const sql = postgres(url, { max: 1, onnotice: () => {} });
        try {
          // Beside the reference schema, with its own version table.
          const projectArgs = ["--dir", dir, "--version-table", "project_version"];
          ok(await runInImage(data, [...projectArgs, "upgrade", "head"], env), "upgrade (--dir)");
          const projectCurrent = await runInImage(data, [...projectArgs, "current"], env);
          ok(projectCurrent, "current (--dir)");
          assert.match(projectCurrent.stdout, /1ace00000012/);
          const rows = await sql.unsafe("SELECT version_num FROM project_version");
          assert.deepEqual(rows.map((r) => r.version_num), ["1ace00000012"]);
        } finally {
          await sql.end();
        }
      });
    }),
);
