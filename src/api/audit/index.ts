/** The API's audit trail: hash-chained JSON lines in the lake's `_audit/` (local folder or S3). */
export { AuditTrail, AuditTrailError, type AuditTrailOptions } from './trail';
export { GENESIS, type AuditOutcome, type AuditRequest, type ChunkLine, type RequestLine } from './record';
export { listStreams, tailAudit, verifyAuditTrail, verifyStream, type AuditProblem, type ProblemKind, type StreamVerdict } from './verify';
