import { describe, expect, it } from "vitest";
import { codecsOnProcessThread, readTilesEnv } from "./env";

const base = { TILE_TOKEN_SECRET: "x".repeat(32), HUB_ORIGIN: "http://127.0.0.1:3000" };

describe("TILE_CODEC_THREADS", () => {
  it("runs codecs on the process's thread when the processes cover the cores, on the pool otherwise", () => {
    expect(readTilesEnv(base).TILE_CODEC_THREADS).toBe("auto");
    expect(codecsOnProcessThread(readTilesEnv({ ...base, TILE_PROCESSES: "2" }), 2)).toBe(true);
    expect(codecsOnProcessThread(readTilesEnv({ ...base, TILE_PROCESSES: "4" }), 2)).toBe(true);
    expect(codecsOnProcessThread(readTilesEnv(base), 2)).toBe(false);
    expect(codecsOnProcessThread(readTilesEnv(base), 1)).toBe(true);
  });

  it("follows an explicit choice whatever the processes", () => {
    expect(codecsOnProcessThread(readTilesEnv({ ...base, TILE_CODEC_THREADS: "pool", TILE_PROCESSES: "8" }), 2)).toBe(false);
    expect(codecsOnProcessThread(readTilesEnv({ ...base, TILE_CODEC_THREADS: "process" }), 16)).toBe(true);
    expect(() => readTilesEnv({ ...base, TILE_CODEC_THREADS: "threads" })).toThrow(/TILE_CODEC_THREADS/);
  });
});
