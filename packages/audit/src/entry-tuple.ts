import type { SealedEntry } from "./chain";

/**
 * A chain entry as pages carry it compactly (the database builds them, the hub sends them to
 * nodes): [seq, prevHash, createdAt as milliseconds since 1970, actorUserId, action, targetType,
 * targetId, detail, ip, hash]. The lab is the page's, given once. About 40 % fewer bytes than
 * entry objects, and cheaper for the database to write than a formatted timestamp.
 */
export type EntryTuple = [
  seq: number,
  prevHash: string,
  createdAtMs: number,
  actorUserId: string | null,
  action: string,
  targetType: string,
  targetId: string,
  detail: Record<string, unknown>,
  ip: string | null,
  hash: string,
];

/** The entry a tuple stands for, as `@pathx/audit` hashes and verifies it. */
export function sealedEntryOfTuple(labId: string | null, t: EntryTuple): SealedEntry {
  return {
    labId,
    seq: t[0],
    prevHash: t[1],
    createdAt: new Date(t[2]).toISOString(),
    actorUserId: t[3],
    action: t[4],
    targetType: t[5],
    targetId: t[6],
    detail: t[7],
    ip: t[8],
    hash: t[9],
  };
}
