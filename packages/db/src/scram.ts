import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * The server side of SCRAM-SHA-256 (RFC 5802 / 7677, as PostgreSQL speaks it): the password is
 * never sent, and the client checks the server's signature in return.
 */
const ITERATIONS = 4096;
const hmac = (key: Buffer, text: string) => createHmac("sha256", key).update(text).digest();
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest();

export interface ScramVerifier {
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

export function scramVerifier(password: string): ScramVerifier {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, ITERATIONS, 32, "sha256");
  return { salt, storedKey: sha256(hmac(salted, "Client Key")), serverKey: hmac(salted, "Server Key") };
}

/** One client's exchange: its first message in, the server-first message out; then its final message checked. */
export function startScram(verifier: ScramVerifier, clientFirst: string) {
  const bare = clientFirst.replace(/^[^,]*,[^,]*,/, ""); // drop the GS2 header ("n,,")
  const clientNonce = /(?:^|,)r=([^,]+)/.exec(bare)?.[1];
  if (!clientNonce) return undefined;
  const nonce = clientNonce + randomBytes(18).toString("base64");
  const serverFirst = `r=${nonce},s=${verifier.salt.toString("base64")},i=${ITERATIONS}`;
  return {
    serverFirst,
    /** The server-final message when the client's proof is right, else undefined. */
    finish(clientFinal: string): string | undefined {
      const proofAt = clientFinal.lastIndexOf(",p=");
      if (proofAt < 0) return undefined;
      const withoutProof = clientFinal.slice(0, proofAt);
      if (/(?:^|,)r=([^,]+)/.exec(withoutProof)?.[1] !== nonce) return undefined;
      const proof = Buffer.from(clientFinal.slice(proofAt + 3), "base64");
      const authMessage = `${bare},${serverFirst},${withoutProof}`;
      const signature = hmac(verifier.storedKey, authMessage);
      if (proof.length !== signature.length) return undefined;
      const clientKey = Buffer.from(proof.map((byte, i) => byte ^ signature[i]!));
      if (!timingSafeEqual(sha256(clientKey), verifier.storedKey)) return undefined;
      return `v=${hmac(verifier.serverKey, authMessage).toString("base64")}`;
    },
  };
}
