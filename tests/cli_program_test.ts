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
  equal(commandWord(["upgrade", "head"], values), "upgrade");
  equal(commandWord(["--dir", "current", "upgrade"], values), "upgrade");
  equal(commandWord(["--url=sqlite:x.db", "-q", "stamp", "base"], values), "stamp");
  equal(commandWord(["--json", "--", "heads"], values), "heads");
  equal(commandWord(["--dir", "x"], values), null);
  equal(commandWord([], values), null);
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
  deepStrictEqual(names(["--url", "sqlite:x.db", "upgrade"]), [
    "upgrade",
    "downgrade",
    "stamp",
    "current",
  ]);
});
