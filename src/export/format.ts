/**
 * @module export/format
 * The layout of an export archive (./members.ts, re-exported) and the schema of `export.json`.
 */
import { z } from 'zod';

import { IsoTime, Sha256Hex } from '../core/schemas/common.ts';
import { EXPORT_FORMAT, EXPORT_FORMAT_VERSION } from './members.ts';

export * from './members.ts';

/** `export.json`. */
export const ExportInfo = z.strictObject({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_FORMAT_VERSION),
  task_id: z.string(),
  commit_id: Sha256Hex,
  /** When the archive was made. */
  exported_at: IsoTime,
  /** The exporting server's version. */
  fetchml_version: z.string(),
});
export type ExportInfo = z.infer<typeof ExportInfo>;
