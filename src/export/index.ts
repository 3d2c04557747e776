/**
 * @module export
 * Export archives of a task (`ml export`, `ml import`, `ml verify-export`): the layout
 * (./format.ts), writing (./pack.ts), safe reading (./read.ts) and the offline check (./verify.ts).
 */
export * from './format.ts';
export { packArchive } from './pack.ts';
export type { PackMember, PackResult } from './pack.ts';
export { DEFAULT_ARCHIVE_LIMITS, memberNameProblem, readArchive } from './read.ts';
export type { ArchiveLimits, MemberHeader, ReadSummary } from './read.ts';
export { verifyExport } from './verify.ts';
export type { VerifiedExport, VerifiedMember } from './verify.ts';
