import { z } from "zod";

/** The tile service's settings, read and checked once; nothing else reads process.env. */
const schema = z.object({
  TILES_PORT: z.coerce.number().int().min(1).max(65535).default(3001),
  TILES_HOST: z.string().default("127.0.0.1"),
  /** Processes sharing the port (node:cluster); each keeps its own open slides and cache. */
  TILE_PROCESSES: z.coerce.number().int().min(1).max(64).default(1),
  TILE_TOKEN_SECRET: z.string().min(32, "TILE_TOKEN_SECRET must be at least 32 characters (the hub's tile token key)"),
  /** The hub's origin: the only one allowed to read tiles from scripts (CORS), e.g. http://127.0.0.1:3000. */
  HUB_ORIGIN: z.string().url(),
  /** "public" only behind a CDN that checks the token itself (terraform: CloudFront); "private" otherwise. */
  TILE_CACHE_CONTROL: z.enum(["private", "public"]).default("private"),
  TILE_MAX_AGE_SECONDS: z.coerce.number().int().min(0).max(31_536_000).default(86_400),
  /** Slides kept open per process (least recently used closed first). */
  TILE_OPEN_SLIDES: z.coerce.number().int().min(1).max(10_000).default(64),
  /** Decoded source tiles and encoded results kept per process. */
  TILE_CACHE_MB: z.coerce.number().int().min(8).max(16_384).default(256),
  /** Tile requests worked on at once per process; more wait in line, up to TILE_QUEUE_LIMIT. */
  TILE_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(64),
  TILE_QUEUE_LIMIT: z.coerce.number().int().min(0).max(100_000).default(4000),
  /** A request not answered within this (slow or failing object store) gets 503. */
  TILE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /**
   * Where JPEG decoding and encoding of computed tiles runs: "pool" (libuv worker threads),
   * "process" (the process's own thread: no hop to a worker and back, ≈ 0.3 CPU ms less per
   * computed tile), or "auto": "process" when TILE_PROCESSES covers the machine's cores (the
   * processes keep every core busy; the pool would only add hops), "pool" otherwise.
   */
  TILE_CODEC_THREADS: z.enum(["auto", "pool", "process"]).default("auto"),
  /** Longest token lifetime the hub issues: how long a revocation must be remembered. */
  TILE_TOKEN_MAX_SECONDS: z.coerce.number().int().min(30).max(86_400).default(3600),
});

export type TilesEnv = z.infer<typeof schema>;

export function readTilesEnv(source: Record<string, string | undefined> = process.env): TilesEnv {
  const parsed = schema.safeParse(source);
  if (!parsed.success) throw new Error(`tile service settings are invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return parsed.data;
}

/** Whether a tile process runs its JPEG codecs on its own thread (TILE_CODEC_THREADS) on a machine of `cores`. */
export function codecsOnProcessThread(settings: Pick<TilesEnv, "TILE_CODEC_THREADS" | "TILE_PROCESSES">, cores: number): boolean {
  if (settings.TILE_CODEC_THREADS !== "auto") return settings.TILE_CODEC_THREADS === "process";
  return settings.TILE_PROCESSES >= cores;
}
