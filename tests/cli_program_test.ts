/**
 * The command line registers only the group of commands a run needs; the word that picks it is
 * read past the values of global options.
 *
 * @module
 */

import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { buildProgram, commandWord } from "../cli.ts";

Deno.test("commandWord: the first operand, past the values of options that take one", () => {
  const values = new Set(["--url", "--dir"]);
  const flags = new Set(["--json", "-q"]);
  equal(commandWord(["upgrade", "head"], values, flags), "upgrade");
  equal(commandWord(["--dir", "current", "upgrade"], values, flags), "upgrade");
  equal(commandWord(["--url=sqlite:x.db", "-q", "stamp", "base"], values, flags), "stamp");
  equal(commandWord(["--json", "--", "heads"], values, flags), "heads");
  equal(commandWord(["--dir", "x"], values, flags), null);
  equal(commandWord([], values, flags), null);
  // Options commander handles at the top: help for every command.
  equal(commandWord(["--help", "upgrade"], values, flags), null);
  equal(commandWord(["--bogus", "upgrade"], values, flags), null);
  equal(commandWord(["--json=1", "heads"], values, flags), null);
});

const names = (argv: string[]) => buildProgram(argv).commands.map((c) => c.name());

Deno.test("buildProgram: a run registers its command's group; help and unknown words get all", () => {
  const all = names([]);
  ok(all.length >= 13, all.join());
  deepStrictEqual(names(["--help"]), all);
  deepStrictEqual(names(["upgrad"]), all);
  for (const command of all) {
    const registered = names(["--dir", "migrations", command]);
    ok(registered.includes(command), `${command} registers itself: ${registered.join()}`);
    ok(registered.length < all.length, `${command} registers only its group`);
  }
  // Found by review: these once listed only one group in their help.
  for (
    const argv of [
      ["--help", "upgrade"],
      ["-h", "schema"],
      ["--json", "--help", "heads"],
      ["-V", "upgrade"],
      ["--bogus", "upgrade"],
      ["--json=1", "heads"],
      ["-qz", "history"],
      ["--no-color=1", "current"],
    ]
  ) deepStrictEqual(names(argv), all, argv.join(" "));
  ok(names(["--json", "-q", "--no-color", "--url=x", "heads"]).length < all.length, "still lean");
  deepStrictEqual(names(["--url", "sqlite:x.db", "upgrade"]), [
    "upgrade",
    "downgrade",
    "stamp",
    "current",
  ]);
});
