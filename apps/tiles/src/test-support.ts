import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { type ObjectStore, createLocalStore } from "@pathx/storage";
import type { PyramidInfo, TileSink } from "@pathx/wsi";

export const TEST_SECRET = "tiles-test-secret-tiles-test-secret";

/** Settings for a tile process in a test: any free port, short deadline. */
export function testSettings(overrides: Partial<Parameters<typeof import("./service").startTileService>[0]["settings"]> = {}) {
  return {
    TILES_PORT: 0,
    TILES_HOST: "127.0.0.1",
    TILE_TOKEN_SECRET: TEST_SECRET,
    HUB_ORIGIN: "http://hub.test:3000",
    TILE_CACHE_CONTROL: "private" as const,
    TILE_MAX_AGE_SECONDS: 86_400,
    TILE_OPEN_SLIDES: 8,
    TILE_CACHE_MB: 64,
    TILE_CONCURRENCY: 8,
    TILE_QUEUE_LIMIT: 100,
    TILE_TIMEOUT_MS: 1500,
    TILE_TOKEN_MAX_SECONDS: 600,
    ...overrides,
  };
}

/** A migrated in-memory database with one lab, one case and two users, and a folder store. */
export async function createTilesFixture() {
  const handle: DbHandle = await createTestDb();
  const root = await mkdtemp(join(tmpdir(), "tiles-"));
  const store: ObjectStore = createLocalStore(root);
  const db = handle.db;
  const [lab] = await db.insert(schema.labs).values({ slug: "t", name: "Tile Lab" }).returning();
  const [kase] = await db.insert(schema.cases).values({ labId: lab!.id, accessionNumber: "T-1", patientPseudonym: "hmac:t" }).returning();
  const users = await db
    .insert(schema.users)
    .values([
      { email: "viewer@example.org", name: "Viewer" },
      { email: "other@example.org", name: "Other" },
    ])
    .returning();
  const addSlide = async (values: { tilesPrefix?: string | null; sourceKey?: string | null; status?: "ready" | "received" }) => {
    const [slide] = await db
      .insert(schema.slides)
      .values({
        labId: lab!.id,
        caseId: kase!.id,
        fileName: "s.tif",
        sizeBytes: 1,
        status: values.status ?? "ready",
        sourceKey: values.sourceKey ?? null,
        tilesPrefix: values.tilesPrefix ?? null,
      })
      .returning();
    return slide!;
  };
  return {
    handle,
    store,
    root,
    labId: lab!.id,
    userIds: users.map((u) => u.id) as [string, string],
    addSlide,
    async close() {
      await handle.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/**
 * A Deep Zoom sink into the object store: tiles go under `<prefix>/slide_files/…`, the `.dzi`
 * last. Slides tiled before the derived pyramid were stored this way (one object per tile);
 * nothing writes them any more, so only the tests that check they are still served make them.
 */
export function createStoreSink(store: ObjectStore, prefix: string, options: { concurrency?: number } = {}): TileSink {
  let info: PyramidInfo | undefined;
  let active = 0;
  const waiting: (() => void)[] = [];
  const max = options.concurrency ?? 16;
  const contentType = () => (info!.format === "png" ? "image/png" : "image/jpeg");
  return {
    async begin(pyramid) {
      info = pyramid;
    },
    async writeTile(level, col, row, data) {
      if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
      active++;
      try {
        await store.put(`${prefix}/slide_files/${level}/${col}_${row}.${info!.format}`, data, { contentType: contentType() });
      } finally {
        active--;
        waiting.shift()?.();
      }
    },
    async commit(dzi) {
      await store.put(`${prefix}/slide.dzi`, Buffer.from(dzi), { contentType: "application/xml" });
    },
    async abort() {
      await store.deletePrefix(`${prefix}/`);
    },
  };
}
