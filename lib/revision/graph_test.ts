import { deepStrictEqual, equal, match, ok, throws } from "node:assert/strict";
import { RevisionError, type RevisionErrorKind, RevisionGraph } from "./graph.ts";
import type { Revision } from "./revision.ts";
import { literalRevision as r } from "./testing.ts";

const ids = (revs: readonly Revision[]) => revs.map((x) => x.revision);

function rejects(fn: () => unknown, kind: RevisionErrorKind, pattern: RegExp, files?: string[]) {
  throws(fn, (error: Error) => {
    ok(error instanceof RevisionError, `expected RevisionError, got ${error}`);
    equal(error.kind, kind, error.message);
    match(error.message, pattern);
    if (files) deepStrictEqual([...error.files].sort(), files.sort());
    return true;
  });
}

interface Shape {
  name: string;
  revisions: Revision[];
  heads: string[];
  bases: string[];
  branchPoints: string[];
  mergePoints: string[];
  history: string[];
  resolve: [string, string[] | RegExp][];
}

const shapes: Shape[] = [
  {
    name: "linear",
    revisions: [
      r("aaaa0001"),
      r("bbbb0002", ["aaaa0001"]),
      r("cccc0003", ["bbbb0002"]),
      r("dddd0004", ["cccc0003"]),
    ],
    heads: ["dddd0004"],
    bases: ["aaaa0001"],
    branchPoints: [],
    mergePoints: [],
    history: ["dddd0004", "cccc0003", "bbbb0002", "aaaa0001"],
    resolve: [
      ["head", ["dddd0004"]],
      ["heads", ["dddd0004"]],
      ["base", []],
      ["bbbb0002", ["bbbb0002"]],
      ["bbbb", ["bbbb0002"]],
      ["head-1", ["cccc0003"]],
      ["head-3", ["aaaa0001"]],
      ["head-4", []],
      ["head-5", /not that many revisions/],
      ["aaaa0001+2", ["cccc0003"]],
      ["aaaa+3", ["dddd0004"]],
      ["dddd0004+1", /not that many revisions/],
      ["cccc0003@head", ["dddd0004"]],
      ["+1", ["aaaa0001"]],
      ["zzzz", /no such revision/],
      ["bb", /at least 4 characters/],
    ],
  },
  {
    name: "diamond",
    revisions: [r("a0"), r("b1", ["a0"]), r("c1", ["a0"]), r("d2", ["b1", "c1"])],
    heads: ["d2"],
    bases: ["a0"],
    branchPoints: ["a0"],
    mergePoints: ["d2"],
    history: ["d2", "b1", "c1", "a0"],
    resolve: [
      ["head", ["d2"]],
      ["head-1", /has 2 parents \(b1, c1\)/],
      ["a0+1", /has 2 children \(b1, c1\)/],
      ["b1+1", ["d2"]],
    ],
  },
  {
    name: "several bases",
    revisions: [r("a1"), r("b1"), r("a2", ["a1"]), r("b2", ["b1"])],
    heads: ["a2", "b2"],
    bases: ["a1", "b1"],
    branchPoints: [],
    mergePoints: [],
    history: ["a2", "a1", "b2", "b1"],
    resolve: [
      ["heads", ["a2", "b2"]],
      [
        "head",
        /the chain has 2 heads \(a2, b2\); name one of them, use 'heads', or run 'strata merge heads'/,
      ],
      ["a1@head", ["a2"]],
      ["b2-1", ["b1"]],
      ["+1", /has 2 children \(a1, b1\)/],
    ],
  },
  {
    name: "several heads",
    revisions: [r("root"), r("left", ["root"]), r("right", ["root"]), r("left2", ["left"])],
    heads: ["right", "left2"],
    bases: ["root"],
    branchPoints: ["root"],
    mergePoints: [],
    history: ["right", "left2", "left", "root"],
    resolve: [
      ["heads", ["right", "left2"]],
      ["left@head", ["left2"]],
      ["right@head", ["right"]],
      ["root@head", /the chain has 2 heads/],
      ["left2-2", ["root"]],
    ],
  },
  {
    name: "merge of three branches",
    revisions: [
      r("base"),
      r("one", ["base"]),
      r("two", ["base"]),
      r("three", ["base"]),
      r("merge", ["one", "two", "three"]),
      r("after", ["merge"]),
    ],
    heads: ["after"],
    bases: ["base"],
    branchPoints: ["base"],
    mergePoints: ["merge"],
    history: ["after", "merge", "one", "two", "three", "base"],
    resolve: [["head-1", ["merge"]], ["head-2", /has 3 parents \(one, two, three\)/]],
  },
  {
    name: "dependsOn across branches",
    revisions: [r("x1"), r("x2", ["x1"]), r("y1"), r("y2", ["y1"], { deps: ["x2"] })],
    heads: ["x2", "y2"],
    bases: ["x1", "y1"],
    branchPoints: [],
    mergePoints: [],
    // Alembic's order: y2's own line first, then the dependency's branch.
    history: ["y2", "y1", "x2", "x1"],
    resolve: [["heads", ["y2"]], ["head", /2 heads \(x2, y2\)/], ["y2", ["y2"]]],
  },
  {
    name: "branch labels",
    revisions: [
      r("aa01"),
      r("bb01", ["aa01"], { labels: ["core"] }),
      r("cc01", ["bb01"]),
      r("dd01", ["aa01"], { labels: ["extra"] }),
      r("ee01", ["dd01"]),
    ],
    heads: ["cc01", "ee01"],
    bases: ["aa01"],
    branchPoints: ["aa01"],
    mergePoints: [],
    history: ["cc01", "bb01", "ee01", "dd01", "aa01"],
    resolve: [
      ["core@head", ["cc01"]],
      ["extra@head", ["ee01"]],
      ["core", ["bb01"]],
      ["core@base", []],
      ["core@cc01", ["cc01"]],
      ["core@ee01", /revision ee01 is not on branch 'core'/],
      ["core@-1", /a negative step from the current revision is a downgrade/],
      ["core@cc01-1", ["bb01"]],
      ["nolabel@head", /Cannot resolve branch 'nolabel'/],
      ["core@+1", ["aa01"]],
      ["core@+2", ["bb01"]],
      ["extra@+2", ["dd01"]],
    ],
  },
];

for (const shape of shapes) {
  Deno.test(`graph shape: ${shape.name}`, () => {
    const graph = new RevisionGraph(shape.revisions);
    deepStrictEqual(graph.heads, shape.heads, "heads");
    deepStrictEqual(graph.bases, shape.bases, "bases");
    deepStrictEqual(graph.branchPoints, shape.branchPoints, "branch points");
    deepStrictEqual(graph.mergePoints, shape.mergePoints, "merge points");
    deepStrictEqual(ids(graph.history()), shape.history, "history");
    equal(graph.size, shape.revisions.length);
    for (const [target, expected] of shape.resolve) {
      if (expected instanceof RegExp) {
        throws(() => graph.resolve(target), (error: Error) => {
          ok(error instanceof RevisionError, `${target}: ${error}`);
          match(error.message, expected, target);
          return true;
        });
      } else deepStrictEqual(ids(graph.resolve(target)), expected, target);
    }
  });
}

Deno.test("graph: branch labels are inherited along the branch", () => {
  const graph = new RevisionGraph(shapes.find((s) => s.name === "branch labels")!.revisions);
  const labels = (id: string) => [...graph.branchLabels(id)].sort();
  deepStrictEqual(labels("aa01"), [], "a branch point keeps no label");
  deepStrictEqual(labels("bb01"), ["core"]);
  deepStrictEqual(labels("cc01"), ["core"]);
  deepStrictEqual(labels("dd01"), ["extra"]);
  deepStrictEqual(labels("ee01"), ["extra"]);
  // On a single line, a label reaches back to the base.
  const line = new RevisionGraph([r("a"), r("b", ["a"]), r("c", ["b"], { labels: ["tip"] })]);
  deepStrictEqual([...line.branchLabels("a")], ["tip"]);
});

Deno.test("graph: dependsOn edges, real heads and normalised down revisions", () => {
  const graph = new RevisionGraph([
    r("x1"),
    r("x2", ["x1"], { labels: ["xs"] }),
    r("y1"),
    r("y2", ["y1"], { deps: ["xs"] }),
    r("y3", ["y2"], { deps: ["x2"] }),
  ]);
  deepStrictEqual(graph.dependencies("y2"), ["x2"], "labels resolve to revisions");
  deepStrictEqual(graph.dependents("x2"), ["y2", "y3"]);
  deepStrictEqual(graph.realHeads, ["y3"]);
  deepStrictEqual(graph.heads, ["x2", "y3"]);
  deepStrictEqual(graph.normalizedDownRevisions("y2"), ["y1", "x2"]);
  deepStrictEqual(
    graph.normalizedDownRevisions("y3"),
    ["y2"],
    "implied by an ancestor's dependency",
  );
  ok(graph.isAncestor("x1", "y3"));
  ok(!graph.isAncestor("x1", "y3") === false);
  deepStrictEqual([...graph.ancestors(["y3"], { includeDependencies: false })].sort(), [
    "y1",
    "y2",
    "y3",
  ]);
  deepStrictEqual([...graph.descendants(["x1"])].sort(), ["x1", "x2", "y2", "y3"]);
  deepStrictEqual(graph.children("x2"), []);
});

Deno.test("graph: invalid chains are errors naming revisions and files", () => {
  const cases: [string, Revision[], RevisionErrorKind, RegExp, string[]][] = [
    [
      "cycle",
      [r("a", ["c"]), r("b", ["a"]), r("c", ["b"]), r("d", ["c"])],
      "cycle",
      /^Cannot build the revision graph: revisions form a cycle: (a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c)/,
      ["m/a.sql", "m/b.sql", "m/c.sql"],
    ],
    [
      "cycle through dependsOn",
      [r("a"), r("b", ["a"], { deps: ["c"] }), r("c", ["b"])],
      "cycle",
      /cycle: .*b.*c/,
      [
        "m/b.sql",
        "m/c.sql",
      ],
    ],
    [
      "self parent",
      [r("a", ["a"])],
      "self-reference",
      /a \(m\/a\.sql\) names itself as its down revision/,
      ["m/a.sql"],
    ],
    [
      "self dependency",
      [r("a"), r("b", ["a"], { deps: ["b"] })],
      "self-reference",
      /b \(m\/b\.sql\) depends on itself/,
      [
        "m/b.sql",
      ],
    ],
    [
      "self dependency by label",
      [r("a", [], { labels: ["me"], deps: ["me"] })],
      "self-reference",
      /depends on itself through label 'me'/,
      [
        "m/a.sql",
      ],
    ],
    [
      "missing parent",
      [r("a"), r("b", ["zz"])],
      "missing-parent",
      /b \(m\/b\.sql\) has down revision zz, which is not in the chain/,
      [
        "m/b.sql",
      ],
    ],
    [
      "unknown depends_on",
      [r("a"), r("b", ["a"], { deps: ["nope"] })],
      "missing-dependency",
      /b \(m\/b\.sql\) depends on nope/,
      [
        "m/b.sql",
      ],
    ],
    [
      "duplicate IDs",
      [r("a"), { ...r("a"), path: "m/other.sql" }],
      "duplicate-revision",
      /revision a is declared by both m\/a\.sql and m\/other\.sql/,
      ["m/a.sql", "m/other.sql"],
    ],
    [
      "label used twice",
      [r("a", [], { labels: ["x"] }), r("b", ["a"], { labels: ["x"] })],
      "label-conflict",
      /branch label 'x' of b \(m\/b\.sql\) is already used by revision a/,
      ["m/a.sql", "m/b.sql"],
    ],
  ];
  for (const [name, revisions, kind, pattern, files] of cases) {
    rejects(() => new RevisionGraph(revisions), kind, pattern, files);
    void name;
  }
});

Deno.test("graph: ambiguous prefixes list their candidates", () => {
  const graph = new RevisionGraph([r("abcd1111"), r("abcd2222", ["abcd1111"])]);
  rejects(
    () => graph.resolve("abcd"),
    "ambiguous-prefix",
    /prefix matches 2 revisions \(abcd1111, abcd2222\); give more characters/,
    [
      "m/abcd1111.sql",
      "m/abcd2222.sql",
    ],
  );
  deepStrictEqual(ids(graph.resolve("abcd2")), ["abcd2222"]);
  rejects(() => graph.resolve("abc"), "unknown-revision", /at least 4 characters/);
});

Deno.test("graph: relative targets from the current heads", () => {
  const graph = new RevisionGraph([r("a1"), r("b2", ["a1"]), r("c3", ["b2"])]);
  deepStrictEqual(ids(graph.resolve("+1", ["a1"])), ["b2"]);
  deepStrictEqual(ids(graph.resolve("+2", [])), ["b2"]);
  rejects(() => graph.resolve("+3", ["a1"]), "invalid-target", /not that many revisions/);
  rejects(() => graph.resolve("-1", ["a1"]), "invalid-target", /use 'strata downgrade -1'/);
  rejects(
    () => graph.resolve("+1", ["zz"]),
    "unknown-current",
    /current revision zz: not in this chain/,
  );
  equal(graph.resolveOne("base"), null);
  equal(graph.resolveOne("head")?.revision, "c3");
});

Deno.test("graph: an empty target is refused, not read as base or head", () => {
  // `strata downgrade "$TARGET"` with an unset variable must not unapply everything.
  const graph = new RevisionGraph([r("a1"), r("b2", ["a1"]), r("c3", ["b2"], { labels: ["x"] })]);
  for (const target of ["", " ", "\t"]) {
    const empty = new RegExp(`^Cannot resolve '${target}': the target is empty`);
    rejects(() => graph.downgradeRevisions(["c3"], target), "invalid-target", empty);
    rejects(() => graph.upgradeRevisions([], target), "invalid-target", empty);
    rejects(() => graph.upgradeRevisions(["a1"], target), "invalid-target", empty);
    rejects(() => graph.resolve(target), "invalid-target", empty);
    rejects(() => graph.resolveOne(target, ["c3"]), "invalid-target", empty);
  }
  // Nothing after a branch label's `@` is refused the same way.
  for (const target of ["x@", "c3@"]) {
    const pattern = new RegExp(`^Cannot resolve '${target}': no revision after '@'`);
    rejects(() => graph.downgradeRevisions(["c3"], target), "invalid-target", pattern);
    rejects(() => graph.upgradeRevisions([], target), "invalid-target", pattern);
  }
  // The sides of a history range may still be empty: base below, heads above.
  deepStrictEqual(ids(graph.historyRange(":")), ["c3", "b2", "a1"]);
  deepStrictEqual(ids(graph.historyRange(" : b2")), ["b2", "a1"]);
  deepStrictEqual(ids(graph.historyRange("b2:")), ["c3", "b2"]);
  rejects(() => graph.historyRange(""), "invalid-target", /the target is empty/);
  // `base` itself is still base.
  deepStrictEqual(ids(graph.downgradeRevisions(["c3"], "base")), ["c3", "b2", "a1"]);
  deepStrictEqual(ids(graph.upgradeRevisions(["c3"], "base")), []);
});

Deno.test("graph: `-1` with several current heads suggests a target that keeps to one branch", () => {
  const graph = new RevisionGraph([
    r("a0"),
    r("a1", ["a0"]),
    r("b2", ["a1"], { labels: ["left"] }),
    r("c2", ["a1"]),
    r("c3", ["c2"]),
  ]);
  for (const current of [["b2", "c3"], ["c3", "b2"]]) {
    let suggestion = "";
    throws(() => graph.downgradeRevisions(current, "-1"), (error: Error) => {
      ok(error instanceof RevisionError);
      equal(error.kind, "invalid-target");
      suggestion = /e\.g\. '([^']+)'/.exec(error.message)?.[1] ?? "";
      return true;
    });
    equal(suggestion, `${current[0]}@-1`);
    // Doing what the message says unapplies that branch's head and nothing else.
    deepStrictEqual(ids(graph.downgradeRevisions(current, suggestion)), [current[0]]);
  }
  // `<head>-1` is the branch point's descendants: the other branch too (as in Alembic).
  deepStrictEqual(ids(graph.downgradeRevisions(["b2", "c3"], "b2-1")), ["b2", "c3", "c2"]);
  // A branch label works the same way.
  deepStrictEqual(ids(graph.downgradeRevisions(["b2", "c3"], "left@-1")), ["b2"]);
});

Deno.test("graph: history ranges", () => {
  const graph = new RevisionGraph([
    r("a0"),
    r("b1", ["a0"]),
    r("c1", ["a0"]),
    r("d2", ["b1", "c1"]),
    r("e3", ["d2"]),
  ]);
  const cases: [string, string[] | RegExp][] = [
    [":", ["e3", "d2", "b1", "c1", "a0"]],
    ["b1:", ["e3", "d2", "b1"]],
    ["b1:d2", ["d2", "b1"]],
    [":c1", ["c1", "a0"]],
    ["a0:head", ["e3", "d2", "b1", "c1", "a0"]],
    ["d2:e3", ["e3", "d2"]],
    ["c1:b1", /c1 is not an ancestor of b1/],
    ["e3", ["e3", "d2", "b1", "c1", "a0"]],
  ];
  for (const [range, expected] of cases) {
    if (expected instanceof RegExp) throws(() => graph.historyRange(range), expected);
    else deepStrictEqual(ids(graph.historyRange(range)), expected, range);
  }
});

Deno.test("graph: current heads that overlap are refused", () => {
  const graph = new RevisionGraph([r("a"), r("b", ["a"])]);
  rejects(
    () => graph.upgradeRevisions(["a", "b"], "head"),
    "overlapping-current",
    /a is an ancestor of b/,
  );
});

Deno.test("graph: a 10,000-revision chain", () => {
  const n = 10_000;
  const revisions: Revision[] = [];
  for (let i = 0; i < n; i++) {
    revisions.push(
      r(
        `rev${String(i).padStart(9, "0")}`,
        i === 0 ? [] : [`rev${String(i - 1).padStart(9, "0")}`],
      ),
    );
  }
  const graph = new RevisionGraph(revisions);
  const last = revisions[n - 1].revision;
  deepStrictEqual(graph.heads, [last]);
  equal(graph.resolveOne("head")?.revision, last);
  equal(graph.resolveOne(`head-${n - 1}`)?.revision, revisions[0].revision);
  const history = graph.history();
  equal(history.length, n);
  equal(history[0].revision, last);
  equal(history[n - 1].revision, revisions[0].revision);
  const up = graph.upgradeRevisions([], "head");
  equal(up.length, n);
  equal(up[0].revision, revisions[0].revision);
  equal(graph.downgradeRevisions([last], "base").length, n);
  equal(graph.upgradeRevisions([revisions[4999].revision], "head").length, 5000);
});
