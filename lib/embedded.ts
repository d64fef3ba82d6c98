/**
 * The reference chains compiled into the binary. This checked-in version embeds nothing;
 * `scripts/compile.ts` regenerates it (every migration imported statically, every text file
 * inlined) for the duration of a build, then restores it.
 *
 * @module
 */

/** One embedded file: its text, and its module when it is a `.ts` migration. */
export interface EmbeddedFile {
  readonly text: string;
  readonly module?: Record<string, unknown>;
}

/** Embedded files by path relative to the repository root (`migrations/sqlite/...`). */
export const embeddedFiles: ReadonlyMap<string, EmbeddedFile> | null = null;
