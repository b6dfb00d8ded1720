import { describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  MAX_AUDIT_PAGE,
  MAX_THUMBNAIL_BYTES,
  SLIDE_HEADER_BYTES,
  auditCheckpointAnswer,
  auditEntriesAnswer,
  auditEntriesQuery,
  enrollAnswer,
  errorAnswer,
  indexAnswer,
  indexBatchInput,
  indexRecordInput,
  nodeRoutes,
  nodeStatusInput,
  nodeUploadStartInput,
  okAnswer,
  ordersAnswer,
  ordersQuery,
  parseNodeQuery,
  policyAnswer,
  uploadCompleteAnswer,
  uploadStartAnswer,
  uploadStartInput,
} from "./node-protocol";

const uuid = "0b7d3c1e-5f2a-4c8e-9d1b-2a3f4e5d6c7b";
const pseudonym = `hmac-sha256:${"ab".repeat(32)}`;
const meta = { accessionNumber: "N26-0001", block: "A1", stain: "HE", specimen: "colon" };
const record = {
  ref: "r".repeat(40),
  fileName: "slide.svs",
  size: 1234,
  meta,
  image: { width: 1000, height: 800, mppX: 0.25, mppY: 0.25, objectivePower: 40, vendor: "aperio" },
  thumbnail: Buffer.from([0xff, 0xd8, 0xff]).toString("base64"),
};

/** What the other side reads after the value crossed the wire as JSON. */
const overTheWire = <S extends z.ZodType>(schema: S, value: z.input<S>) => schema.parse(JSON.parse(JSON.stringify(value)));

describe("route paths", () => {
  it("are the paths the hub's route files serve", () => {
    expect(nodeRoutes.enroll.path()).toBe("/api/node/enroll");
    expect(nodeRoutes.policy.path()).toBe("/api/node/policy");
    expect(nodeRoutes.startUpload.path()).toBe("/api/node/uploads");
    expect(nodeRoutes.sendChunk.path({ uploadId: uuid, index: 7 })).toBe(`/api/node/uploads/${uuid}/chunks/7`);
    expect(nodeRoutes.completeUpload.path({ uploadId: uuid })).toBe(`/api/node/uploads/${uuid}/complete`);
    expect(nodeRoutes.index.path()).toBe("/api/node/index");
    expect(nodeRoutes.orders.path({ wait: 25 })).toBe("/api/node/orders?wait=25");
    expect(nodeRoutes.failOrder.path({ orderId: uuid })).toBe(`/api/node/orders/${uuid}/fail`);
    expect(nodeRoutes.status.path()).toBe("/api/node/status");
    expect(nodeRoutes.auditCheckpoint.path()).toBe("/api/node/audit");
    expect(nodeRoutes.auditEntries.path({ after: 10, limit: 5000, shape: "tuples" })).toBe("/api/node/audit/entries?after=10&limit=5000&shape=tuples");
    expect(nodeRoutes.auditEntries.path({ after: 0 })).toBe("/api/node/audit/entries?after=0");
  });

  it("keep an id inside its segment", () => {
    expect(nodeRoutes.failOrder.path({ orderId: "../../enroll?x=1" })).toBe("/api/node/orders/..%2F..%2Fenroll%3Fx%3D1/fail");
  });

  it("each route names its method", () => {
    const methods = Object.fromEntries(Object.entries(nodeRoutes).map(([name, r]) => [name, r.method]));
    expect(methods).toEqual({
      enroll: "POST",
      policy: "GET",
      startUpload: "POST",
      sendChunk: "PUT",
      completeUpload: "POST",
      index: "POST",
      orders: "GET",
      failOrder: "POST",
      status: "POST",
      auditCheckpoint: "GET",
      auditEntries: "GET",
    });
  });
});

describe("requests", () => {
  it("an upload start crosses the wire unchanged; an empty pseudonym is none, one with spaces is trimmed", () => {
    const start = { fileName: "a.svs", size: 100, sha256: "a".repeat(64), meta: { ...meta, patientPseudonym: pseudonym } };
    expect(overTheWire(uploadStartInput, start)).toEqual(start);
    expect(overTheWire(uploadStartInput, { ...start, meta: { ...meta, patientPseudonym: "" } }).meta.patientPseudonym).toBeUndefined();
    expect(overTheWire(uploadStartInput, { ...start, meta: { ...meta, patientPseudonym: ` ${pseudonym} ` } }).meta.patientPseudonym).toBe(pseudonym);
    expect(overTheWire(nodeUploadStartInput, { ...start, orderId: uuid }).orderId).toBe(uuid);
  });

  it("refuses a patient id that is not a pseudonym, a header over the judged bytes, a size that is not a whole number", () => {
    const start = { fileName: "a.svs", size: 100, sha256: "a".repeat(64), meta };
    const refusal = uploadStartInput.safeParse({ ...start, meta: { ...meta, patientPseudonym: "1234567" } });
    expect(refusal.success).toBe(false);
    expect(refusal.error?.issues[0]?.message).toMatch(/a patient id is never sent/);
    expect(uploadStartInput.safeParse({ ...start, header: "A".repeat(Math.ceil(SLIDE_HEADER_BYTES / 3) * 4) }).success).toBe(true);
    expect(uploadStartInput.safeParse({ ...start, header: "A".repeat(Math.ceil(SLIDE_HEADER_BYTES / 3) * 4 + 1) }).success).toBe(false);
    expect(uploadStartInput.safeParse({ ...start, size: 1.5 }).success).toBe(false);
    expect(uploadStartInput.safeParse({ ...start, meta: { ...meta, block: "x".repeat(33) } }).success).toBe(false);
  });

  it("an index batch crosses the wire unchanged; a bad reference, a large thumbnail, an empty or oversized batch are refused", () => {
    expect(overTheWire(indexBatchInput, { records: [record] })).toEqual({ records: [record] });
    expect(indexRecordInput.safeParse({ ...record, ref: "short" }).success).toBe(false);
    expect(indexRecordInput.safeParse({ ...record, ref: "has/slash".repeat(4) }).success).toBe(false);
    expect(indexRecordInput.safeParse({ ...record, thumbnail: "A".repeat(Math.ceil((MAX_THUMBNAIL_BYTES * 4) / 3) + 5) }).success).toBe(false);
    expect(indexRecordInput.safeParse({ ...record, image: { ...record.image, mppX: 0 } }).success).toBe(false);
    expect(indexBatchInput.safeParse({ records: [] }).success).toBe(false);
    expect(indexBatchInput.safeParse({ records: Array.from({ length: 1001 }, () => record) }).success).toBe(false);
  });

  it("a heartbeat takes a whole queue depth and a bounded last error", () => {
    expect(overTheWire(nodeStatusInput, { queueDepth: 3, lastError: null })).toEqual({ queueDepth: 3, lastError: null });
    expect(nodeStatusInput.safeParse({ queueDepth: -1, lastError: null }).success).toBe(false);
    expect(nodeStatusInput.safeParse({ queueDepth: 1, lastError: "x".repeat(2001) }).success).toBe(false);
  });

  it("the orders poll never refuses its wait: not a number is no wait, and it is capped", () => {
    const wait = (search: string) => parseNodeQuery(ordersQuery, `http://hub/api/node/orders${search}`).data?.wait;
    expect(wait("")).toBe(0);
    expect(wait("?wait=25")).toBe(25);
    expect(wait("?wait=abc")).toBe(0);
    expect(wait("?wait=-5")).toBe(0);
    expect(wait("?wait=99")).toBe(30);
    expect(wait("?wait=Infinity")).toBe(30);
    expect(wait("?wait=2.5")).toBe(2.5);
  });

  it("an audit page query has defaults, takes the first value of a key, and refuses what is no page", () => {
    const query = (search: string) => parseNodeQuery(auditEntriesQuery, `http://hub/api/node/audit/entries${search}`);
    expect(query("").data).toEqual({ after: 0, limit: MAX_AUDIT_PAGE, shape: "objects" });
    expect(query("?after=12&limit=100&shape=tuples").data).toEqual({ after: 12, limit: 100, shape: "tuples" });
    expect(query("?after=&shape=other").data).toEqual({ after: 0, limit: MAX_AUDIT_PAGE, shape: "objects" });
    expect(query("?after=3&after=9").data?.after).toBe(3);
    for (const bad of ["?after=-1", "?after=1.5", "?after=abc", "?limit=0", `?limit=${MAX_AUDIT_PAGE + 1}`, `?after=${2 ** 53}`])
      expect(query(bad).success, bad).toBe(false);
  });
});

describe("answers", () => {
  it("cross the wire unchanged", () => {
    const cases: [z.ZodType, unknown][] = [
      [enrollAnswer, { nodeId: uuid, credential: "pxn_abc", lab: { slug: "north", name: "North" } }],
      [policyAnswer, { shareLabelMacro: false }],
      [uploadStartAnswer, { kind: "duplicate", slideId: uuid }],
      [uploadStartAnswer, { kind: "open", uploadId: uuid, chunkSize: 8 << 20, chunkCount: 3, received: [0, 2] }],
      [uploadCompleteAnswer, { slideId: uuid }],
      [indexAnswer, { registered: 1, alreadyKnown: 2, rejected: [{ index: 3, reason: "x.txt is not a slide file" }] }],
      [ordersAnswer, { orders: [{ orderId: uuid, slideId: uuid, ref: "r".repeat(20), fileName: "a.svs" }] }],
      [okAnswer, { ok: true }],
      [errorAnswer, { error: "This node is not enrolled" }],
      [auditCheckpointAnswer, { labId: uuid, checkpoint: null, keyId: "k", publicKey: "-----BEGIN PUBLIC KEY-----" }],
      [
        auditCheckpointAnswer,
        {
          labId: uuid,
          checkpoint: { labId: uuid, seq: 4, hash: "h", signedAt: "2026-01-01T00:00:00.000Z", keyId: "k", signature: "s" },
          keyId: "k",
          publicKey: "p",
        },
      ],
    ];
    for (const [schema, value] of cases) expect(overTheWire(schema, value as never)).toEqual(value);
  });

  it("refuse answers of another shape", () => {
    expect(uploadStartAnswer.safeParse({ kind: "resumed", uploadId: uuid }).success).toBe(false);
    expect(uploadStartAnswer.safeParse({ kind: "open", uploadId: uuid, chunkSize: 8, chunkCount: 1 }).success).toBe(false);
    expect(ordersAnswer.safeParse({ orders: [{ orderId: uuid, slideId: uuid, fileName: "a.svs" }] }).success).toBe(false);
    expect(ordersAnswer.safeParse([]).success).toBe(false);
    expect(indexAnswer.safeParse({ registered: 1, alreadyKnown: 0 }).success).toBe(false);
    expect(policyAnswer.safeParse({ shareLabelMacro: "yes" }).success).toBe(false);
    expect(okAnswer.safeParse({}).success).toBe(false);
    expect(auditCheckpointAnswer.safeParse({ labId: uuid, checkpoint: { seq: 1 }, keyId: "k", publicKey: "p" }).success).toBe(false);
  });

  it("an audit page is tuples when the hub says so, entry objects from a hub that predates them", () => {
    const tuple = [1, "0".repeat(64), 0, null, "slide.view", "slide", uuid, {}, null, "f".repeat(64)];
    expect(auditEntriesAnswer.parse({ labId: uuid, shape: "tuples", entries: [tuple] })).toEqual({ labId: uuid, shape: "tuples", entries: [tuple] });
    const entry = { seq: 1, hash: "f".repeat(64) };
    expect(auditEntriesAnswer.parse({ labId: uuid, entries: [entry] })).toEqual({ labId: uuid, entries: [entry] });
    expect(auditEntriesAnswer.parse({ labId: uuid, shape: "objects", entries: [] }).entries).toEqual([]);
    expect(auditEntriesAnswer.safeParse({ labId: uuid, shape: "tuples", entries: [entry] }).success).toBe(false);
    expect(auditEntriesAnswer.safeParse({ labId: uuid, shape: "objects", entries: [tuple] }).success).toBe(false);
    expect(auditEntriesAnswer.safeParse({ labId: uuid, shape: "columns", entries: [] }).success).toBe(false);
    expect(auditEntriesAnswer.safeParse({ labId: uuid, shape: "tuples" }).success).toBe(false);
  });
});

// Both sides import this package: it must not pull the hub's database, store or UI into the node agent.
it("depends on zod and the audit format only", async () => {
  const { readFile, readdir } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as { dependencies?: Record<string, string> };
  expect(Object.keys(pkg.dependencies ?? {}).sort()).toEqual(["@pathx/audit", "zod"]);
  const dir = new URL("./", import.meta.url);
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))) {
    const imports = [...(await readFile(new URL(file, dir), "utf8")).matchAll(/from "([^"]+)"/g)].map((m) => m[1]!);
    for (const name of imports) expect(name, file).toMatch(/^(zod|@pathx\/audit|\.\/.*)$/);
  }
});
