import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

export interface NodeConfig {
  hub: string;
  nodeId: string;
  credential: string;
  lab: { slug: string; name: string };
  /**
   * Node-local key (base64) that encrypts file paths into the references an index-only slide
   * is registered with: the hub can hand a reference back in an order but never read the path.
   */
  indexKey?: string;
}

/**
 * The node's credential, readable by its owner only (0600). Written whole, then renamed into
 * place: another run of the node reading it meanwhile sees the old file or the new one.
 */
export async function saveNodeConfig(path: string, config: NodeConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

export async function loadNodeConfig(path: string): Promise<NodeConfig> {
  const text = await readFile(path, "utf8").catch(() => {
    throw new Error(`this node is not enrolled (no ${path}); run: pathx node enroll --hub URL --token TOKEN`);
  });
  return JSON.parse(text) as NodeConfig;
}
