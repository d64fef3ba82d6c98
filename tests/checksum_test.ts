/**
 * Checksums are one function on every runtime: Bun hashes natively, Deno in JavaScript, and a
 * database migrated by one is checked by the other.
 *
 * @module
 */

import { deepStrictEqual, equal } from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { checksumText } from "../lib/revision/script.ts";
import { requiredTest } from "./support/requirement.ts";
import { ROOT, runCommand, runtimeRequirement, RUNTIMES } from "./support/runtimes.ts";
import { withTempDir } from "./support/tmp.ts";

const TEXTS = [
  "",
  "a",
  "a\r\nb\rc",
  "CREATE TABLE t (id INT);\n",
  "é€😀 ünïcødé, \u0000 and a lone surrogate \ud800",
  ...[55, 56, 63, 64, 65, 119, 120, 1000, 100_000].map((n) => "x".repeat(n)),
];

const bun = RUNTIMES.find((r) => r.name === "bun")!;

requiredTest(
  "checksums: Bun's native SHA-256 gives what the JavaScript one gives on Deno",
  runtimeRequirement(bun),
  () =>
    withTempDir(async (dir) => {
      const input = path.join(dir, "texts.json");
      fs.writeFileSync(input, JSON.stringify(TEXTS));
      const script = path.join(dir, "hash.ts");
      const lib = pathToFileURL(path.join(ROOT, "lib")).href;
      fs.writeFileSync(
        script,
        `import { checksumText } from "${lib}/revision/script.ts";\n` +
          `import { nativeSha256Hex } from "${lib}/runtime.ts";\n` +
          `import * as fs from "node:fs";\n` +
          `const texts = JSON.parse(fs.readFileSync(${JSON.stringify(input)}, "utf8"));\n` +
          "const sums = [];\n" +
          "for (const t of texts) sums.push(await checksumText(t));\n" +
          "console.log(JSON.stringify({ native: nativeSha256Hex !== null, sums }));\n",
      );
      const result = await runCommand([bun.command![0], "run", script]);
      equal(result.code, 0, result.stderr);
      const { native, sums } = JSON.parse(result.stdout);
      equal(native, true, "Bun hashes natively");
      const expected: string[] = [];
      for (const text of TEXTS) expected.push(await checksumText(text));
      deepStrictEqual(sums, expected);
      equal(expected[0], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }),
);
