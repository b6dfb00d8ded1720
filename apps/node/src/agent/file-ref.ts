import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { link, readFile, rm, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type NodeConfig, loadNodeConfig, saveNodeConfig } from "./config";

/**
 * References to files in the lab for index-only slides. A reference is the file's absolute path
 * encrypted with AES-256-GCM under the node's own key, with the nonce derived from the path
 * (HMAC), so the same file always gives the same reference (re-running a backlog registers
 * nothing twice) while the hub learns nothing: paths can carry patients' names.
 */
export function makeFileRef(key: Buffer, path: string): string {
  const plain = Buffer.from(resolve(path), "utf8");
  const nonce = createHmac("sha256", key).update(plain).digest().subarray(0, 12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([nonce, cipher.getAuthTag(), sealed]).toString("base64url");
}

/** The path behind a reference this node made; undefined for one it did not make. */
export function readFileRef(key: Buffer, ref: string): string | undefined {
  const bytes = Buffer.from(ref, "base64url");
  if (bytes.length < 29) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8");
  } catch {
    return undefined;
  }
}

/**
 * The node's reference key, made and saved (mode 0600, with the credential) on first use. Runs
 * that start at once (two backlogs) agree on one key: each offers one by hard-linking a file
 * beside the configuration, which only the first can do, and all take that one; otherwise a
 * run's references would be sealed with a key the configuration no longer holds.
 */
export async function loadIndexKey(configPath: string, config: NodeConfig): Promise<Buffer> {
  if (!config.indexKey) {
    const keyPath = `${configPath}.index-key`;
    const offer = `${keyPath}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    await writeFile(offer, randomBytes(32).toString("base64"), { mode: 0o600 });
    await link(offer, keyPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    });
    await rm(offer, { force: true });
    const current = await loadNodeConfig(configPath);
    config.indexKey = current.indexKey ?? (await readFile(keyPath, "utf8")).trim();
    if (!current.indexKey) await saveNodeConfig(configPath, { ...current, indexKey: config.indexKey });
  }
  return Buffer.from(config.indexKey, "base64");
}
