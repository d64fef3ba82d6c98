/**
 * `strata check` and `strata notes verify`: reports for CI, exit 3 when they find a problem.
 *
 * @module
 */

import type { Command } from "commander";
// `check` is loaded by its command only: it pulls in autogenerate.
import type { CheckFinding } from "../check.ts";
import { loadProjectChain, locateProject, readNotes } from "../project.ts";
import { parseNotes, verifyNotes } from "../revision/notes.ts";
import { ExitCode, UsageError } from "./errors.ts";
import type { Output } from "./output.ts";

interface Flags {
  url?: string;
  dir?: string;
  notes?: string;
  versionTable: string;
}

function label(finding: CheckFinding): string {
  return `${finding.area}${finding.dialect ? ` (${finding.dialect})` : ""}`;
}

/** Register `check` and `notes verify`. */
export function registerCheckCommands(program: Command, output: () => Output): void {
  program.command("check").description(
    "check chains, notes, applied checksums and schema drift (exit 3 on a problem)",
  )
    .option("--schema <file>", "the schema definition (default: schema.ts beside --dir)")
    .option("--no-drift", "skip the comparison with the schema definition")
    .action(async (opts: { schema?: string; drift: boolean }, command: Command) => {
      const out = output();
      const flags = command.optsWithGlobals<Flags>();
      const { check } = await import("../check.ts");
      const report = await check({
        dir: flags.dir,
        notes: flags.notes,
        url: flags.url,
        versionTable: flags.versionTable,
        schema: opts.schema,
        noDrift: !opts.drift,
      });
      if (out.options.json) out.json(report);
      else {
        for (const w of report.warnings) out.warning(`${label(w)}: ${w.message}`);
        for (const s of report.skipped) out.line(`skipped ${label(s)}: ${s.message}`);
        for (const p of report.problems) {
          out.result(`${out.paint("problem", "red")} ${label(p)}: ${p.message}`);
        }
        out.line(
          report.clean
            ? "strata check: no problems"
            : `strata check: ${report.problems.length} problem${
              report.problems.length === 1 ? "" : "s"
            }`,
        );
      }
      if (!report.clean) throw new ExitCode(3);
    });

  const notes = program.command("notes").description("MIGRATION-NOTES.md");
  notes.command("verify").description(
    "check the notes against both chains (exit 3 on a problem)",
  ).action(async (_opts: unknown, command: Command) => {
    const out = output();
    const flags = command.optsWithGlobals<Flags>();
    const location = locateProject({ dir: flags.dir, notes: flags.notes });
    const text = await readNotes(location);
    if (text === null) throw new UsageError(`Cannot verify notes: no file at ${location.notes}`);
    const findings = verifyNotes(parseNotes(text), {
      sqlite: (await loadProjectChain(location, "sqlite")).graph,
      postgresql: (await loadProjectChain(location, "postgresql")).graph,
    });
    const errors = findings.filter((f) => f.severity === "error");
    if (out.options.json) out.json(findings);
    else {
      for (const f of findings) {
        const where = f.line ? `${location.notes}:${f.line}: ` : `${location.notes}: `;
        if (f.severity === "error") {
          out.result(`${out.paint("problem", "red")} ${where}${f.message}`);
        } else out.warning(`${where}${f.message}`);
      }
      out.line(
        errors.length === 0
          ? `strata notes verify: ${location.notes} agrees with both chains`
          : `strata notes verify: ${errors.length} problem${errors.length === 1 ? "" : "s"}`,
      );
    }
    if (errors.length > 0) throw new ExitCode(3);
  });
}
