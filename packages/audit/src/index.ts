export { CanonicalJsonError, canonicalJson } from "./canonical-json";
export {
  ChainVerifier,
  GENESIS_HASH,
  hashEntry,
  keyIdOf,
  signCheckpoint,
  verifyCheckpoint,
  type AuditEntry,
  type ChainReport,
  type Checkpoint,
  type SealedEntry,
} from "./chain";
export { sealedEntryOfTuple, type EntryTuple } from "./entry-tuple";
export { readPagesAhead } from "./read-pages-ahead";
