/**
 * Prints to stderr whether strata thinks its stdout is a terminal (`tests/cli_color_test.ts`
 * runs it with stdout on a terminal, a pipe, a file and `/dev/null`).
 *
 * @module
 */

import { stdoutIsTty } from "../../lib/runtime.ts";

console.error(String(stdoutIsTty()));
