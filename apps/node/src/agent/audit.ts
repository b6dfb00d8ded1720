import { createPublicKey } from "node:crypto";
import { chmod, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  type ChainReport,
  type Checkpoint,
  ChainVerifier,
  type SealedEntry,
  keyIdOf,
  readPagesAhead,
  sealedEntryOfTuple,
  verifyCheckpoint,
} from "@pathx/audit";
import { CodedError } from "@pathx/errors";
import { nodeRoutes } from "@pathx/protocol";
import type { NodeConfig } from "./config";
import { HubError, callHub } from "./hub-client";

/**
 * The lab's witnesses of its audit chain at the hub: every signed checkpoint this node fetched,
 * and the hub's public key as first seen. Kept beside the credential, 0600. A hub that rewrites
 * or truncates the lab's history afterwards cannot make these agree with it.
 */
export interface Witnesses {
  hub: string;
  labId: string;
  keyId: string;
  publicKey: string;
  checkpoints: Checkpoint[];
}

/** The hub's audit history contradicts what this node holds, or its key does not fit. */
export class AuditError extends CodedError<"node"> {
  override readonly name = "AuditError";
  constructor(message: string) {
    super("node", "AUDIT_WITNESS", message);
  }
}

export const witnessesPath = (configPath: string) => join(dirname(configPath), "audit-witnesses.json");

async function loadWitnesses(path: string): Promise<Witnesses | undefined> {
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  return text === undefined ? undefined : (JSON.parse(text) as Witnesses);
}

async function saveWitnesses(path: string, witnesses: Witnesses): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(witnesses, null, 1)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

/**
 * Fetches the lab's current signed checkpoint and keeps it as a witness. Refuses a checkpoint
 * that is not signed by the key this node first saw, or that contradicts one it holds.
 */
export async function pullAuditCheckpoint(
  config: NodeConfig,
  configPath: string,
): Promise<{ witnesses: Witnesses; latest: Checkpoint | null; added: boolean }> {
  const answer = await callHub(config.hub, nodeRoutes.auditCheckpoint, { credential: config.credential });
  const path = witnessesPath(configPath);
  const held = await loadWitnesses(path);
  if (held && held.keyId !== answer.keyId) {
    throw new AuditError(
      `the hub now signs audit checkpoints with key ${answer.keyId}, not ${held.keyId} as before: ask the hub operator why the key changed (witnesses kept unchanged in ${path}).`,
    );
  }
  const publicKey = createPublicKey(held?.publicKey ?? answer.publicKey);
  if (keyIdOf(publicKey) !== (held?.keyId ?? answer.keyId)) throw new AuditError("the hub's public key does not match its key id.");
  const witnesses: Witnesses = held ?? { hub: config.hub, labId: answer.labId, keyId: answer.keyId, publicKey: answer.publicKey, checkpoints: [] };
  const latest = answer.checkpoint;
  let added = false;
  if (latest) {
    if (latest.labId !== witnesses.labId || !verifyCheckpoint(publicKey, latest))
      throw new AuditError(`the hub sent a checkpoint (entry ${latest.seq}) that is not validly signed for this lab; it was not kept.`);
    const same = witnesses.checkpoints.find((c) => c.seq === latest.seq);
    if (same && same.hash !== latest.hash)
      throw new AuditError(`the hub signed two different histories: entry ${latest.seq} was ${same.hash.slice(0, 12)}…, now ${latest.hash.slice(0, 12)}….`);
    const newest = witnesses.checkpoints.at(-1);
    if (newest && latest.seq < newest.seq)
      throw new AuditError(`the hub's chain head is entry ${latest.seq}, but this node holds a checkpoint of entry ${newest.seq}: the chain was truncated.`);
    if (!same) {
      witnesses.checkpoints.push(latest);
      witnesses.checkpoints.sort((a, b) => a.seq - b.seq);
      added = true;
    }
  }
  if (added || !held) await saveWitnesses(path, witnesses);
  return { witnesses, latest, added };
}

/**
 * Reads the lab's whole chain from the hub, a page at a time, and checks every link, hash and
 * witness: the first broken link, or OK. Pulls a fresh checkpoint first. The next pages are
 * asked for before this one is read and hashed (`readPagesAhead`), so the hub reads them meanwhile.
 */
export async function verifyAuditChainAtHub(config: NodeConfig, configPath: string, pageSize = 5000): Promise<ChainReport> {
  const { witnesses } = await pullAuditCheckpoint(config, configPath);
  const verifier = new ChainVerifier(witnesses.labId, witnesses.checkpoints, createPublicKey(witnesses.publicKey));
  const readPage = async (after: number): Promise<SealedEntry[]> => {
    const page = await callHub(config.hub, nodeRoutes.auditEntries, { params: { after, limit: pageSize, shape: "tuples" }, credential: config.credential });
    // A hub from before the tuples ignores the question and sends entry objects.
    return page.shape === "tuples" ? page.entries.map((t) => sealedEntryOfTuple(page.labId, t)) : page.entries;
  };
  for await (const page of readPagesAhead(readPage, (entry) => entry.seq, pageSize))
    for (const entry of page) if (!verifier.add(entry)) return verifier.report();
  return verifier.report();
}

/** On `serve` and `watch`: take a witness, but never stop the agent's work for it. */
export async function pullAuditCheckpointQuietly(config: NodeConfig, configPath: string, log: (line: string) => void): Promise<void> {
  try {
    const { latest, added } = await pullAuditCheckpoint(config, configPath);
    if (added && latest) log(`audit: kept the hub's signed checkpoint of entry ${latest.seq}`);
  } catch (error) {
    log(
      `audit: ${error instanceof AuditError || error instanceof HubError ? error.message : `could not fetch the audit checkpoint (${(error as Error).message})`}`,
    );
  }
}
