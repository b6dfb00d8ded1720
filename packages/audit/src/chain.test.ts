import { createHash, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical-json";
import {
  type AuditEntry,
  type Checkpoint,
  ChainVerifier,
  GENESIS_HASH,
  type SealedEntry,
  canonicalEntryJson,
  hashEntry,
  signCheckpoint,
  verifyCheckpoint,
} from "./chain";

const lab = "6f1c3c5e-1d2b-4f7a-9a51-6f0c2b3d4e5f";
const keys = generateKeyPairSync("ed25519");

function buildChain(n: number): SealedEntry[] {
  const out: SealedEntry[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const e = {
      labId: lab,
      seq,
      prevHash: prev,
      createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
      actorUserId: null,
      action: "slide.view",
      targetType: "slide",
      targetId: `s${seq}`,
      detail: { n: seq },
      ip: "192.0.2.1",
    };
    prev = hashEntry(e);
    out.push({ ...e, hash: prev });
  }
  return out;
}

function verify(entries: SealedEntry[], checkpoints: Checkpoint[] = []) {
  const v = new ChainVerifier(lab, checkpoints, keys.publicKey);
  for (const e of entries) if (!v.add(e)) break;
  return v.report();
}

describe("ChainVerifier", () => {
  it("accepts an intact chain and its checkpoints", () => {
    const chain = buildChain(10);
    const cp = signCheckpoint(keys.privateKey, { labId: lab, seq: 10, hash: chain[9]!.hash, signedAt: "2026-01-01T00:01:00.000Z" });
    expect(verifyCheckpoint(keys.publicKey, cp)).toBe(true);
    expect(verify(chain, [cp])).toMatchObject({ ok: true, length: 10, headHash: chain[9]!.hash, checkpoints: 1 });
  });

  it("locates an edited entry", () => {
    const chain = buildChain(10);
    chain[4] = { ...chain[4]!, detail: { n: 99 } };
    expect(verify(chain).broken).toEqual({ seq: 5, problem: expect.stringMatching(/content was changed/) });
  });

  it("locates a removed entry, and entries swapped", () => {
    const chain = buildChain(10);
    expect(verify(chain.filter((e) => e.seq !== 3)).broken).toMatchObject({ seq: 3, problem: expect.stringMatching(/entry 3 is missing/) });
    const swapped = chain.map((e) => (e.seq === 6 ? { ...chain[6]!, seq: 6 } : e.seq === 7 ? { ...chain[5]!, seq: 7 } : e));
    expect(verify(swapped).broken).toMatchObject({ seq: 6, problem: expect.stringMatching(/does not link/) });
  });

  it("finds a truncated chain only with a witness, and a forged or foreign checkpoint", () => {
    const chain = buildChain(10);
    const cp = signCheckpoint(keys.privateKey, { labId: lab, seq: 8, hash: chain[7]!.hash, signedAt: "2026-01-01T00:01:00.000Z" });
    expect(verify(chain.slice(0, 6)).ok).toBe(true);
    expect(verify(chain.slice(0, 6), [cp]).broken).toMatchObject({ seq: 7, problem: expect.stringMatching(/truncated/) });
    const other = generateKeyPairSync("ed25519");
    const forged = signCheckpoint(other.privateKey, { labId: lab, seq: 8, hash: chain[7]!.hash, signedAt: "2026-01-01T00:01:00.000Z" });
    expect(verify(chain, [forged]).broken).toMatchObject({ seq: 8, problem: expect.stringMatching(/no valid signature/) });
    expect(verify(chain, [{ ...cp, seq: 9 }]).broken?.seq).toBe(9);
  });

  it("finds a chain rewritten consistently after a checkpoint was taken", () => {
    const chain = buildChain(10);
    const cp = signCheckpoint(keys.privateKey, { labId: lab, seq: 10, hash: chain[9]!.hash, signedAt: "2026-01-01T00:01:00.000Z" });
    // Rewrite entry 4 and re-hash everything after it, as an attacker with the database would.
    const rewritten: SealedEntry[] = [];
    let prev = GENESIS_HASH;
    for (const e of chain) {
      const body = { ...e, prevHash: prev, targetId: e.seq === 4 ? "other" : e.targetId };
      prev = hashEntry(body);
      rewritten.push({ ...body, hash: prev });
    }
    expect(verify(rewritten).ok).toBe(true);
    expect(verify(rewritten, [cp]).broken).toMatchObject({ seq: 10, problem: expect.stringMatching(/differs from the checkpoint/) });
  });
});

describe("canonicalEntryJson", () => {
  const base: AuditEntry = {
    labId: lab,
    seq: 7,
    prevHash: GENESIS_HASH,
    createdAt: "2026-01-01T00:00:07.000Z",
    actorUserId: null,
    action: "slide.view",
    targetType: "slide",
    targetId: "s7",
    detail: {},
    ip: null,
  };
  const generic = (e: AuditEntry) =>
    canonicalJson({
      v: 1,
      labId: e.labId,
      seq: e.seq,
      prevHash: e.prevHash,
      createdAt: e.createdAt,
      actorUserId: e.actorUserId,
      action: e.action,
      targetType: e.targetType,
      targetId: e.targetId,
      detail: e.detail,
      ip: e.ip,
    });

  it("writes exactly the generic RFC 8785 bytes, for entries as declared and for odd shapes", () => {
    const variants: AuditEntry[] = [
      base,
      {
        ...base,
        labId: null,
        actorUserId: "a1",
        ip: "2001:db8::1",
        detail: { "\u20ac": 1, "\r": [1, "x", null, { b: 2, a: 1 }], z: { y: true, x: 1e21 }, a: 'é\u0001"\\' },
      },
      { ...base, action: "\u{1f600} emoji", targetId: "\u0000", seq: 2 ** 53 - 1 },
      // Shapes a hub or database could send that the declared type does not allow.
      { ...base, actorUserId: undefined as unknown as null, detail: [1, 2] as unknown as Record<string, unknown> },
      { ...base, ip: 5 as unknown as string, detail: null as unknown as Record<string, unknown> },
      { ...base, seq: "7" as unknown as number, detail: new Date(0) as unknown as Record<string, unknown> },
    ];
    for (const e of variants) {
      expect(canonicalEntryJson(e)).toBe(generic(e));
      expect(hashEntry(e)).toBe(createHash("sha256").update(generic(e), "utf8").digest("hex"));
    }
    expect(() => canonicalEntryJson({ ...base, targetId: "\ud800" })).toThrow(/lone UTF-16 surrogate/);
    expect(() => canonicalEntryJson({ ...base, seq: Number.NaN })).toThrow(/NaN/);
  });
});
