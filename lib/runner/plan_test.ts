import { deepStrictEqual, equal, match, ok, throws } from "node:assert/strict";
import { RevisionError, RevisionGraph } from "../revision/graph.ts";
import type { Revision } from "../revision/revision.ts";
import { planDowngrade, planStamp, type PlanStep, planUpgrade } from "./plan.ts";
import { literalRevision as r } from "../revision/testing.ts";

/** A step as one readable string: `+b -a +b` means upgrade b, delete row a, insert row b. */
const show = (steps: PlanStep[]) =>
  steps.map((s) =>
    `${s.direction === "up" ? "+" : "-"}${s.revision.revision} [${
      s.removeVersions.join(",")
    }] -> [${s.addVersions.join(",")}]`
  );

/** The version rows after running `steps` from `current`. */
function rowsAfter(current: readonly string[], steps: PlanStep[]): string[] {
  const rows = new Set(current);
  for (const s of steps) {
    for (const v of s.removeVersions) {
      ok(rows.delete(v), `row ${v} must exist before it is removed`);
    }
    for (const v of s.addVersions) rows.add(v);
  }
  return [...rows].sort();
}

interface Case {
  command: "upgrade" | "downgrade";
  current: string[];
  target: string;
  steps: string[] | RegExp;
  rows?: string[];
}

const shapes: { name: string; revisions: Revision[]; cases: Case[] }[] = [
  {
    name: "linear",
    revisions: [r("a1"), r("b2", ["a1"]), r("c3", ["b2"])],
    cases: [
      {
        command: "upgrade",
        current: [],
        target: "head",
        steps: ["+a1 [] -> [a1]", "+b2 [a1] -> [b2]", "+c3 [b2] -> [c3]"],
        rows: ["c3"],
      },
      { command: "upgrade", current: ["a1"], target: "+1", steps: ["+b2 [a1] -> [b2]"] },
      { command: "upgrade", current: ["c3"], target: "head", steps: [], rows: ["c3"] },
      { command: "upgrade", current: ["a1"], target: "+5", steps: /not that many revisions/ },
      { command: "downgrade", current: ["c3"], target: "-1", steps: ["-c3 [c3] -> [b2]"] },
      {
        command: "downgrade",
        current: ["c3"],
        target: "base",
        steps: ["-c3 [c3] -> [b2]", "-b2 [b2] -> [a1]", "-a1 [a1] -> []"],
        rows: [],
      },
      {
        command: "downgrade",
        current: ["c3"],
        target: "a1",
        steps: ["-c3 [c3] -> [b2]", "-b2 [b2] -> [a1]"],
      },
      {
        command: "downgrade",
        current: ["b2"],
        target: "c3",
        steps: /c3 is not below the current revision \(b2\)/,
      },
      { command: "downgrade", current: [], target: "-1", steps: /the database is at base/ },
      { command: "downgrade", current: ["c3"], target: "+1", steps: /use 'strata upgrade \+1'/ },
    ],
  },
  {
    name: "diamond (merge point)",
    revisions: [r("a0"), r("b1", ["a0"]), r("c1", ["a0"]), r("d2", ["b1", "c1"])],
    cases: [
      {
        command: "upgrade",
        current: [],
        target: "head",
        steps: ["+a0 [] -> [a0]", "+c1 [a0] -> [c1]", "+b1 [] -> [b1]", "+d2 [b1,c1] -> [d2]"],
        rows: ["d2"],
      },
      {
        command: "upgrade",
        current: ["b1"],
        target: "head",
        steps: ["+c1 [] -> [c1]", "+d2 [b1,c1] -> [d2]"],
      },
      {
        command: "upgrade",
        current: ["b1", "c1"],
        target: "head",
        steps: ["+d2 [b1,c1] -> [d2]"],
        rows: ["d2"],
      },
      // Downgrading a merge point restores both parents.
      {
        command: "downgrade",
        current: ["d2"],
        target: "b1",
        steps: ["-d2 [d2] -> [b1,c1]"],
        rows: ["b1", "c1"],
      },
      // `-1` from a merge point is ambiguous: which parent?
      { command: "downgrade", current: ["d2"], target: "-1", steps: /has 2 parents \(b1, c1\)/ },
      // Like Alembic: downgrading to c1 removes c1's descendants only; b1 is a sibling.
      { command: "downgrade", current: ["b1", "c1"], target: "c1", steps: [], rows: ["b1", "c1"] },
      {
        command: "downgrade",
        current: ["b1", "c1"],
        target: "-1",
        steps: /the database has 2 heads \(b1, c1\); name the branch, e\.g\. 'b1@-1',/,
      },
      // What that message suggests unapplies b1 only.
      {
        command: "downgrade",
        current: ["b1", "c1"],
        target: "b1@-1",
        steps: ["-b1 [b1] -> []"],
        rows: ["c1"],
      },
      // `b1-1` names a0, so both branches above a0 go (as in Alembic); `b1@b1-1` keeps to b1's.
      {
        command: "downgrade",
        current: ["b1", "c1"],
        target: "b1-1",
        steps: ["-b1 [b1] -> []", "-c1 [c1] -> [a0]"],
        rows: ["a0"],
      },
      {
        command: "downgrade",
        current: ["b1", "c1"],
        target: "b1@b1-1",
        steps: ["-b1 [b1] -> []"],
        rows: ["c1"],
      },
    ],
  },
  {
    name: "several heads (branch point)",
    revisions: [r("root"), r("left", ["root"]), r("right", ["root"]), r("left2", ["left"])],
    cases: [
      {
        command: "upgrade",
        current: ["root"],
        target: "right",
        steps: ["+right [root] -> [right]"],
      },
      // Upgrading a second branch from a branch point adds a row and removes none.
      {
        command: "upgrade",
        current: ["right"],
        target: "left2",
        steps: ["+left [] -> [left]", "+left2 [left] -> [left2]"],
        rows: ["left2", "right"],
      },
      {
        command: "upgrade",
        current: [],
        target: "heads",
        steps: [
          "+root [] -> [root]",
          "+left [root] -> [left]",
          "+left2 [left] -> [left2]",
          "+right [] -> [right]",
        ],
        rows: ["left2", "right"],
      },
      {
        command: "upgrade",
        current: [],
        target: "head",
        steps: /the chain has 2 heads \(right, left2\)/,
      },
      {
        command: "downgrade",
        current: ["right", "left2"],
        target: "base",
        steps: [
          "-right [right] -> []",
          "-left2 [left2] -> [left]",
          "-left [left] -> [root]",
          "-root [root] -> []",
        ],
        rows: [],
      },
      {
        command: "downgrade",
        current: ["right", "left2"],
        target: "root",
        steps: ["-right [right] -> []", "-left2 [left2] -> [left]", "-left [left] -> [root]"],
        rows: ["root"],
      },
      {
        command: "downgrade",
        current: ["right", "left2"],
        target: "left2-1",
        steps: ["-left2 [left2] -> [left]"],
        rows: ["left", "right"],
      },
      {
        command: "downgrade",
        current: ["right", "left2"],
        target: "right@-1",
        steps: ["-right [right] -> []"],
        rows: ["left2"],
      },
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
    ],
    cases: [
      {
        command: "upgrade",
        current: ["one", "two", "three"],
        target: "head",
        steps: ["+merge [one,two,three] -> [merge]"],
        rows: ["merge"],
      },
      {
        command: "upgrade",
        current: ["one"],
        target: "head",
        steps: ["+three [] -> [three]", "+two [] -> [two]", "+merge [one,two,three] -> [merge]"],
        rows: ["merge"],
      },
      {
        command: "downgrade",
        current: ["merge"],
        target: "two",
        steps: ["-merge [merge] -> [one,two,three]"],
        rows: ["one", "three", "two"],
      },
      {
        command: "downgrade",
        current: ["merge"],
        target: "base",
        steps: [
          "-merge [merge] -> [one,two,three]",
          "-one [one] -> []",
          "-two [two] -> []",
          "-three [three] -> [base]",
          "-base [base] -> []",
        ],
        rows: [],
      },
    ],
  },
  {
    name: "dependsOn across branches",
    revisions: [r("x1"), r("x2", ["x1"]), r("y1"), r("y2", ["y1"], { deps: ["x2"] })],
    cases: [
      {
        command: "upgrade",
        current: [],
        target: "heads",
        steps: ["+x1 [] -> [x1]", "+x2 [x1] -> [x2]", "+y1 [] -> [y1]", "+y2 [y1,x2] -> [y2]"],
        rows: ["y2"],
      },
      // The dependency is applied first even when only y2's branch is asked for.
      {
        command: "upgrade",
        current: ["y1"],
        target: "y2",
        steps: ["+x1 [] -> [x1]", "+x2 [x1] -> [x2]", "+y2 [y1,x2] -> [y2]"],
        rows: ["y2"],
      },
      // Downgrading the dependency takes its dependents with it.
      {
        command: "downgrade",
        current: ["y2"],
        target: "x1",
        steps: ["-y2 [y2] -> [y1,x2]", "-x2 [x2] -> [x1]"],
        rows: ["x1", "y1"],
      },
      {
        command: "downgrade",
        current: ["y2"],
        target: "y1",
        steps: ["-y2 [y2] -> [y1,x2]"],
        rows: ["x2", "y1"],
      },
    ],
  },
  {
    name: "branch labels on separate bases",
    revisions: [
      r("a1", [], { labels: ["alpha"] }),
      r("a2", ["a1"]),
      r("b1", [], { labels: ["beta"] }),
      r("b2", ["b1"]),
    ],
    cases: [
      {
        command: "upgrade",
        current: [],
        target: "beta@head",
        steps: ["+b1 [] -> [b1]", "+b2 [b1] -> [b2]"],
      },
      {
        command: "upgrade",
        current: ["a2"],
        target: "beta@+1",
        steps: ["+b1 [] -> [b1]"],
        rows: ["a2", "b1"],
      },
      {
        command: "downgrade",
        current: ["a2", "b2"],
        target: "beta@base",
        steps: ["-b2 [b2] -> [b1]", "-b1 [b1] -> []"],
        rows: ["a2"],
      },
      {
        command: "downgrade",
        current: ["a2", "b2"],
        target: "alpha@-1",
        steps: ["-a2 [a2] -> [a1]"],
        rows: ["a1", "b2"],
      },
    ],
  },
];

for (const shape of shapes) {
  Deno.test(`plan: ${shape.name}`, () => {
    const graph = new RevisionGraph(shape.revisions);
    for (const c of shape.cases) {
      const label = `${c.command} ${c.target} from [${c.current}]`;
      const run = () =>
        c.command === "upgrade"
          ? planUpgrade(graph, c.current, c.target)
          : planDowngrade(graph, c.current, c.target);
      if (c.steps instanceof RegExp) {
        throws(run, (error: Error) => {
          ok(error instanceof RevisionError, `${label}: ${error}`);
          match(error.message, c.steps as RegExp, label);
          return true;
        });
        continue;
      }
      const steps = run();
      deepStrictEqual(show(steps), c.steps, label);
      const rows = rowsAfter(c.current, steps);
      if (c.rows) deepStrictEqual(rows, c.rows, `${label}: rows`);
    }
  });
}

Deno.test("plan: current heads unknown to the chain are named", () => {
  const graph = new RevisionGraph([r("a1"), r("b2", ["a1"])]);
  for (
    const run of [
      () => planUpgrade(graph, ["zz9", "a1"], "head"),
      () => planDowngrade(graph, ["zz9"], "base"),
    ]
  ) {
    throws(run, (error: Error) => {
      ok(error instanceof RevisionError);
      equal(error.kind, "unknown-current");
      deepStrictEqual(error.revisions, ["zz9"]);
      match(error.message, /current revision zz9: not in this chain/);
      return true;
    });
  }
});

Deno.test("plan: stamp", () => {
  const graph = new RevisionGraph([
    r("root"),
    r("left", ["root"]),
    r("right", ["root"]),
    r("left2", ["left"]),
  ]);
  const cases: [string[], string, boolean, { remove: string[]; add: string[] }][] = [
    [[], "head-0", false, { remove: [], add: [] }],
    [[], "heads", false, { remove: [], add: ["right", "left2"] }],
    [["root"], "left", false, { remove: ["root"], add: ["left"] }],
    [["left2", "right"], "left", false, { remove: ["left2"], add: ["left"] }],
    [["left2", "right"], "base", false, { remove: ["left2", "right"], add: [] }],
    [["left2"], "left2", false, { remove: [], add: [] }],
    [["left2"], "right", false, { remove: [], add: ["right"] }],
    [["unknown1"], "root", true, { remove: ["unknown1"], add: ["root"] }],
  ];
  for (const [current, target, purge, expected] of cases) {
    if (target === "head-0") continue;
    deepStrictEqual(
      planStamp(graph, current, target, { purge }),
      expected,
      `${target} from [${current}]`,
    );
  }
  throws(
    () => planStamp(graph, ["unknown1"], "root", { purge: false }),
    /use 'strata stamp --purge root'/,
  );
});

Deno.test("plan: an empty target is refused by upgrade, downgrade and stamp", () => {
  // An unset shell variable (`strata downgrade "$TARGET"`) must not mean base or head.
  const graph = new RevisionGraph([r("a1"), r("b2", ["a1"])]);
  for (
    const run of [
      () => planDowngrade(graph, ["b2"], ""),
      () => planUpgrade(graph, ["a1"], ""),
      () => planUpgrade(graph, [], " "),
      () => planStamp(graph, ["b2"], ""),
      () => planStamp(graph, ["b2"], "", { purge: true }),
    ]
  ) {
    throws(run, (error: Error) => {
      ok(error instanceof RevisionError, String(error));
      equal(error.kind, "invalid-target");
      match(error.message, /^Cannot resolve '\s*': the target is empty/);
      return true;
    });
  }
  deepStrictEqual(planStamp(graph, ["b2"], "base"), { remove: ["b2"], add: [] });
});

Deno.test("plan: the target suggested for `-1` with several heads unapplies one revision", () => {
  const graph = new RevisionGraph([
    r("a0"),
    r("a1", ["a0"]),
    r("b2", ["a1"]),
    r("c2", ["a1"]),
    r("c3", ["c2"]),
  ]);
  // Unapplying b2 leaves c3 (a1 lies below it); unapplying c3 puts c2 back beside b2.
  const expected: [string[], string[]][] = [[["b2", "c3"], ["c3"]], [["c3", "b2"], ["b2", "c2"]]];
  for (const [current, rows] of expected) {
    let suggestion = "";
    throws(() => planDowngrade(graph, current, "-1"), (error: Error) => {
      suggestion = /e\.g\. '([^']+)'/.exec(error.message)?.[1] ?? "";
      return error instanceof RevisionError;
    });
    equal(suggestion, `${current[0]}@-1`);
    const steps = planDowngrade(graph, current, suggestion);
    deepStrictEqual(steps.map((s) => s.revision.revision), [current[0]], suggestion);
    deepStrictEqual(rowsAfter(current, steps), rows, suggestion);
  }
});

Deno.test("plan: 10,000 revisions upgrade and downgrade in linear time", () => {
  const n = 10_000;
  const revisions = Array.from({ length: n }, (_, i) => r(`r${i}`, i === 0 ? [] : [`r${i - 1}`]));
  const graph = new RevisionGraph(revisions);
  const up = planUpgrade(graph, [], "head");
  equal(up.length, n);
  deepStrictEqual(rowsAfter([], up), [`r${n - 1}`]);
  const down = planDowngrade(graph, [`r${n - 1}`], "base");
  equal(down.length, n);
  deepStrictEqual(rowsAfter([`r${n - 1}`], down), []);
});
