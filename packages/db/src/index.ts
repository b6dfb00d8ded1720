export { createDb, findMigrationsFolder, type Db, type DbHandle } from "./client";
export { readDbEnv, type DbEnv } from "./env";
export * as schema from "./schema";
export { findCaseForLab, findSlideForLab } from "./tenant";
export { startEmbeddedDbServer } from "./embedded-server";
export { auditEntryOf, inAuditChain, lockAuditChain, readAuditChainJson, readAuditHead, sealAuditChains, sealedEntryOf } from "./audit-chain";
