import { describe, expect, it } from "vitest";
import { createRevocationList, signTileToken, verifyTileToken } from "./index";

const secret = "test-secret-test-secret-test-secret";
const slideId = "0b6f4a59-2a6e-4c39-9d7e-1c2f3a4b5c6d";
const otherSlide = "1b6f4a59-2a6e-4c39-9d7e-1c2f3a4b5c6d";
const userId = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const now = 1_780_000_000_000;
const payload = { slideId, version: "ab12cd", userId, issuedAt: now, expiresAt: now + 300_000 };

describe("tile tokens", () => {
  it("verify what was signed, for that slide and version only", () => {
    const token = signTileToken(secret, payload);
    expect(verifyTileToken(secret, token, { slideId, version: "ab12cd", now: now + 1000 })).toEqual({ ok: true, payload });
    expect(verifyTileToken(secret, token, { slideId: otherSlide, version: "ab12cd", now })).toEqual({ ok: false, reason: "other-slide" });
    expect(verifyTileToken(secret, token, { slideId, version: "ff", now })).toEqual({ ok: false, reason: "other-slide" });
  });

  it("refuse expired, forged and malformed tokens", () => {
    const token = signTileToken(secret, payload);
    expect(verifyTileToken(secret, token, { slideId, version: "ab12cd", now: now + 300_000 })).toEqual({ ok: false, reason: "expired" });
    expect(verifyTileToken("another-secret-another-secret", token, { slideId, version: "ab12cd", now })).toEqual({ ok: false, reason: "forged" });
    // A longer expiry with the old signature: forged.
    const stretched = token.replace(`.${now + 300_000}.`, `.${now + 9_000_000}.`);
    expect(verifyTileToken(secret, stretched, { slideId, version: "ab12cd", now })).toEqual({ ok: false, reason: "forged" });
    for (const bad of ["", "x", token.slice(0, -1), `${token}.x`, token.replace(slideId, "not-a-uuid"), "a".repeat(300)]) {
      expect(verifyTileToken(secret, bad, { slideId, version: "ab12cd", now }).ok, bad).toBe(false);
    }
    expect(() => signTileToken(secret, { ...payload, version: "Bad.Version" })).toThrow(/malformed/);
  });

  it("revocations refuse tokens issued up to the revocation, for the slide or for every slide", () => {
    let clock = now;
    const list = createRevocationList({ keepMs: 600_000, now: () => clock });
    list.add({ userId, slideId, at: now });
    expect(list.isRevoked({ userId, slideId, issuedAt: now - 1 })).toBe(true);
    expect(list.isRevoked({ userId, slideId, issuedAt: now + 1 })).toBe(false);
    expect(list.isRevoked({ userId, slideId: otherSlide, issuedAt: now - 1 })).toBe(false);
    list.add({ userId, at: now + 10 });
    expect(list.isRevoked({ userId, slideId: otherSlide, issuedAt: now + 5 })).toBe(true);
    clock = now + 700_000;
    for (let i = 0; i < 1000; i++) list.add({ userId: `u${i}`, at: clock });
    expect(list.size()).toBe(1000); // the two old entries were pruned
  });
});
