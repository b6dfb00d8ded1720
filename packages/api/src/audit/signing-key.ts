import { type KeyObject, createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { keyIdOf } from "@pathx/audit";
import { ApiError } from "../errors";

export interface AuditSigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
  /** SPKI PEM: what nodes and auditors verify checkpoints with. */
  publicKeyPem: string;
}

function fromPem(pem: string, where: string): AuditSigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new ApiError("INTERNAL", `${where} is not a PEM private key; set an Ed25519 key (openssl genpkey -algorithm ed25519).`);
  }
  if (privateKey.asymmetricKeyType !== "ed25519")
    throw new ApiError("INTERNAL", `${where} is a ${privateKey.asymmetricKeyType} key; audit checkpoints are signed with Ed25519.`);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey), publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString() };
}

/**
 * The key that signs audit checkpoints, kept outside the database so whoever can write the
 * database cannot sign a rewritten history: AUDIT_SIGNING_KEY (cloud secret) or a key file,
 * created 0600 in the hub's data folder on first use (exclusively: concurrent starts agree).
 */
export async function loadAuditSigningKey(env: { AUDIT_SIGNING_KEY?: string; AUDIT_KEY_FILE: string; PATHX_STACK?: string }): Promise<AuditSigningKey> {
  if (env.AUDIT_SIGNING_KEY) return fromPem(env.AUDIT_SIGNING_KEY.replace(/\\n/g, "\n"), "AUDIT_SIGNING_KEY");
  // Containers have no shared disk: each would make its own key and sign histories nobody can check.
  if (env.PATHX_STACK)
    throw new ApiError(
      "INTERNAL",
      "AUDIT_SIGNING_KEY is not set: in the cloud every hub and worker signs audit checkpoints with one key from the secret store.",
    );
  const file = resolve(env.AUDIT_KEY_FILE);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const pem = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  await writeFile(file, pem, { flag: "wx", mode: 0o600 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
  });
  // Whatever the umask or an earlier copy did: the owner alone reads it.
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  return fromPem(await readFile(file, "utf8"), file);
}
