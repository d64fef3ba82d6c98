/**
 * Terminal output: colour only on a TTY and never with `NO_COLOR`/`--no-color`, quiet mode,
 * JSON mode, and the one-line formats of migrations and errors.
 *
 * @module
 */

import { redactUrl } from "../db/url.ts";
import { env, stderrIsTty, stdoutIsTty, writeErr, writeOut } from "../runtime.ts";

/** How to print. */
export interface OutputOptions {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly color: boolean;
  /** Colour on standard error (warnings, errors), which may be a terminal when stdout is not. */
  readonly errorColor?: boolean;
}

/** Decide output options from the global flags and the environment. */
export function outputOptions(flags: { json?: boolean; quiet?: boolean; color?: boolean }) {
  const noColor = env("NO_COLOR") !== undefined && env("NO_COLOR") !== "";
  const wanted = flags.color !== false && !noColor;
  return {
    json: flags.json ?? false,
    quiet: flags.quiet ?? false,
    color: wanted && stdoutIsTty(),
    errorColor: wanted && stderrIsTty(),
  };
}

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1, cyan: 36 } as const;

/** Printing with the chosen options. Every line passes through URL redaction. */
export class Output {
  /** A dry run's statements in `--json` mode, for the document (they are not printed). */
  readonly sql: string[] = [];
  constructor(readonly options: OutputOptions) {}
  /** `text` in a colour, for stdout (or, with `toStderr`, for standard error). */
  paint(text: string, style: keyof typeof CODES, toStderr = false): string {
    const color = toStderr ? this.options.errorColor ?? this.options.color : this.options.color;
    return color ? `\x1b[${CODES[style]}m${text}\x1b[0m` : text;
  }
  /** A normal line (suppressed by `--quiet` and `--json`). */
  line(text = ""): void {
    if (!this.options.quiet && !this.options.json) writeOut(redactUrl(text) + "\n");
  }
  /**
   * Output that is the command's result (SQL of a dry run, `heads`): only `--json` hides it.
   * SQL is printed as written: `password = ...` in a statement is not a connection string.
   */
  result(text: string): void {
    if (!this.options.json) writeOut(redactUrl(text, { keywords: false }) + "\n");
  }
  /**
   * What the command is working on, for the person watching (`strata: <url> with <chain>`): to
   * standard error, as Alembic's INFO lines go, so `$(strata current)` captures the revision
   * alone. Suppressed by `--quiet` and `--json`.
   */
  info(text: string): void {
    if (!this.options.quiet && !this.options.json) {
      writeErr(this.paint(redactUrl(text), "dim", true) + "\n");
    }
  }
  warning(text: string): void {
    if (!this.options.quiet) {
      writeErr(`${this.paint("warning:", "yellow", true)} ${redactUrl(text)}\n`);
    }
  }
  error(text: string): void {
    writeErr(`${this.paint("error:", "red", true)} ${redactUrl(text)}\n`);
  }
  /**
   * One JSON document. Each string is redacted on its own, before serialising (masking the
   * serialised text could eat a closing quote); `verbatim` holds SQL, printed as written as
   * {@link result} prints it.
   */
  json(value: unknown, verbatim?: readonly string[]): void {
    const redact = function (this: unknown, _key: string, item: unknown) {
      if (typeof item !== "string") return item;
      return redactUrl(item, { keywords: this !== verbatim });
    };
    writeOut(JSON.stringify(value, redact, 2) + "\n");
  }
}

/** `12 ms`, `1.4 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}
