/**
 * @module audit
 * The hash-chained audit log (`<home>/logs/audit.log`): the entry format and chain
 * (`audit/chain`), the appender shared by the server and the `fetchml` commands
 * (`audit/writer`), and the checker behind `fetchml audit verify` (`audit/verify`).
 */
export { GENESIS_PREV, entryHash, lineDigest } from './chain.ts';
export type { AuditAction, AuditEntry, AuditEvent, AuditOutcome } from './chain.ts';
export { auditLogPath, openAuditLog } from './writer.ts';
export type { AuditLog, AuditLogOptions } from './writer.ts';
export { verifyAuditLog } from './verify.ts';
export type { AuditProblem, AuditProblemKind, AuditReport } from './verify.ts';
