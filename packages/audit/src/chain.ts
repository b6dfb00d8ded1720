import * as crypto from "node:crypto";
import { type KeyObject, createHash, createPublicKey, sign, verify } from "node:crypto";
import { canonicalJson, writeString } from "./canonical-json";

/** The previous hash of a chain's first entry. */
export const GENESIS_HASH = "0".repeat(64);

/** One audit entry as it is hashed: every field that says what happened, to whom, when and from where. */
export interface AuditEntry {
  /** The lab whose data the act touched (its chain); null for the hub's own chain. */
  labId: string | null;
  /** 1, 2, 3 … without gaps within the lab's chain. */
  seq: number;
  prevHash: string;
  /** ISO 8601 with milliseconds (what the database stores is read back identically). */
  createdAt: string;
  actorUserId: string | null;
  action: string;
  targetType: string;
  targetId: string;
  detail: Record<string, unknown>;
  ip: string | null;
}

export interface SealedEntry extends AuditEntry {
  hash: string;
}

const isNullableString = (value: unknown): value is string | null => value === null || typeof value === "string";
// At module level: a closure made per entry costs an allocation (and under tsx a __name call) each time.
const nullable = (value: string | null) => (value === null ? "null" : writeString(value));

/**
 * The entry's canonical JSON, written straight from its fields: the members in RFC 8785 order
 * (action, actorUserId, createdAt, detail, ip, labId, prevHash, seq, targetId, targetType, v).
 * Verification hashes every entry, and the generic writer's per-member sorting and arrays cost
 * most of it. Anything not shaped as declared (a field missing, a wrong type) takes the generic
 * writer, so the bytes are always exactly canonicalJson's.
 */
export function canonicalEntryJson(e: AuditEntry): string {
  const { detail } = e;
  if (
    typeof e.action !== "string" ||
    !isNullableString(e.actorUserId) ||
    typeof e.createdAt !== "string" ||
    typeof detail !== "object" ||
    detail === null ||
    Array.isArray(detail) ||
    !isNullableString(e.ip) ||
    !isNullableString(e.labId) ||
    typeof e.prevHash !== "string" ||
    typeof e.seq !== "number" ||
    !Number.isFinite(e.seq) ||
    typeof e.targetId !== "string" ||
    typeof e.targetType !== "string"
  ) {
    return canonicalJson({
      v: 1,
      labId: e.labId,
      seq: e.seq,
      prevHash: e.prevHash,
      createdAt: e.createdAt,
      actorUserId: e.actorUserId,
      action: e.action,
      targetType: e.targetType,
      targetId: e.targetId,
      detail,
      ip: e.ip,
    });
  }
  return (
    `{"action":${writeString(e.action)},"actorUserId":${nullable(e.actorUserId)},"createdAt":${writeString(e.createdAt)},` +
    `"detail":${canonicalJson(detail)},"ip":${nullable(e.ip)},"labId":${nullable(e.labId)},"prevHash":${writeString(e.prevHash)},` +
    `"seq":${JSON.stringify(e.seq)},"targetId":${writeString(e.targetId)},"targetType":${writeString(e.targetType)},"v":1}`
  );
}

/** SHA-256 (hex) of the entry's RFC 8785 canonical JSON; only the listed fields count. */
export function hashEntry(e: AuditEntry): string {
  return sha256Hex(canonicalEntryJson(e));
}

// crypto.hash (Node ≥ 20.12) hashes a string in one call, about twice as fast as a Hash object
// per entry; a node agent on an older Node 20 takes the Hash object.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: "hex") => string }).hash;
const sha256Hex = oneShotHash
  ? (text: string) => oneShotHash("sha256", text, "hex")
  : (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** A lab's chain head, signed with the hub's Ed25519 key (kept outside the database). */
export interface Checkpoint {
  labId: string | null;
  seq: number;
  hash: string;
  signedAt: string;
  keyId: string;
  /** Ed25519 signature (base64) of the canonical JSON of the fields above. */
  signature: string;
}

const checkpointPayload = (c: Omit<Checkpoint, "signature">) =>
  Buffer.from(canonicalJson({ v: 1, kind: "pathx-audit-checkpoint", labId: c.labId, seq: c.seq, hash: c.hash, signedAt: c.signedAt, keyId: c.keyId }), "utf8");

/** Short, stable name of a public key: the first 16 hex digits of the SHA-256 of its SPKI DER. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("hex")
    .slice(0, 16);
}

export function signCheckpoint(privateKey: KeyObject, head: { labId: string | null; seq: number; hash: string; signedAt: string }): Checkpoint {
  const unsigned = { ...head, keyId: keyIdOf(createPublicKey(privateKey)) };
  return { ...unsigned, signature: sign(null, checkpointPayload(unsigned), privateKey).toString("base64") };
}

/** True when the checkpoint was signed by this key and not altered since. */
export function verifyCheckpoint(publicKey: KeyObject, c: Checkpoint): boolean {
  if (c.keyId !== keyIdOf(publicKey)) return false;
  try {
    return verify(null, checkpointPayload(c), publicKey, Buffer.from(c.signature, "base64"));
  } catch {
    return false;
  }
}

export interface ChainReport {
  ok: boolean;
  labId: string | null;
  /** Entries read and found intact (up to the first broken link). */
  length: number;
  headHash: string;
  /** Signed checkpoints the chain was compared with. */
  checkpoints: number;
  /** The first broken link: the sequence number where the chain stops being trustworthy, and why. */
  broken?: { seq: number; problem: string };
}

/**
 * Walks one lab's chain entry by entry (in sequence order, as read: paged from the database or
 * from the hub) and stops at the first broken link. Checkpoints are witnesses: each must carry
 * a valid signature and match the entry at its sequence number, and the chain must reach them.
 */
export class ChainVerifier {
  private length = 0;
  private headHash = GENESIS_HASH;
  private broken: ChainReport["broken"];
  private readonly bySeq = new Map<number, Checkpoint>();

  constructor(
    private readonly labId: string | null,
    checkpoints: Checkpoint[],
    publicKey: KeyObject | undefined,
  ) {
    for (const c of checkpoints) {
      const problem =
        c.labId !== labId
          ? "a checkpoint of another lab was given"
          : !publicKey || !verifyCheckpoint(publicKey, c)
            ? `the checkpoint at entry ${c.seq} (signed ${c.signedAt}) has no valid signature of the hub's key`
            : undefined;
      if (problem) {
        this.fail(c.seq, problem);
        continue;
      }
      const seen = this.bySeq.get(c.seq);
      if (seen && seen.hash !== c.hash) this.fail(c.seq, `two signed checkpoints disagree about entry ${c.seq}: the hub's key signed two different histories`);
      this.bySeq.set(c.seq, c);
    }
  }

  private fail(seq: number, problem: string) {
    if (!this.broken || seq < this.broken.seq) this.broken = { seq, problem };
  }

  /** False once the chain is broken at or before this entry (further entries prove nothing). */
  add(e: SealedEntry): boolean {
    if (this.broken && this.broken.seq <= this.length + 1) return false;
    const expected = this.length + 1;
    if (e.labId !== this.labId) this.fail(expected, `entry ${e.seq} belongs to another chain (${e.labId ?? "hub"})`);
    else if (e.seq > expected) this.fail(expected, `entry ${expected} is missing (the chain jumps from ${this.length} to ${e.seq})`);
    else if (e.seq < expected) this.fail(expected, `entry ${e.seq} appears again or out of order after entry ${this.length}`);
    else if (e.prevHash !== this.headHash)
      this.fail(e.seq, `entry ${e.seq} does not link to entry ${this.length} (its previous-hash differs): entries were reordered, removed or rewritten`);
    else if (hashEntry(e) !== e.hash) this.fail(e.seq, `entry ${e.seq} does not match its hash: its content was changed`);
    else {
      const witness = this.bySeq.get(e.seq);
      if (witness && witness.hash !== e.hash)
        this.fail(e.seq, `entry ${e.seq} differs from the checkpoint signed ${witness.signedAt}: the chain was rewritten`);
      else {
        this.length = e.seq;
        this.headHash = e.hash;
        return true;
      }
    }
    return false;
  }

  report(): ChainReport {
    for (const c of this.bySeq.values()) {
      if (c.seq > this.length && !this.broken)
        this.fail(
          this.length + 1,
          `the chain ends at entry ${this.length} but a checkpoint signed ${c.signedAt} vouches for ${c.seq} entries: it was truncated`,
        );
    }
    return {
      ok: !this.broken,
      labId: this.labId,
      length: this.length,
      headHash: this.headHash,
      checkpoints: this.bySeq.size,
      ...(this.broken ? { broken: this.broken } : {}),
    };
  }
}
