import { randomUUID } from "node:crypto";
import { and, eq, inArray, sql } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import type { ObjectStore } from "@pathx/storage";
import { ApiError, notFound } from "../errors";
import { publishEvent } from "../events/bus";
import { labSlidesTopic, publishSlideChange } from "../events/topics";
import type { SlideAccess } from "../access/slide-access";
import { recordAudit } from "./audit";
import { MAX_THUMBNAIL_BYTES, type IndexRecord } from "@pathx/protocol";
import { SLIDE_FILE } from "./uploads";
export { isPackedThumbnail, parseThumbnailKey, readThumbnail } from "./thumbnail-key";

const { slides, cases, fetchOrders, nodes, uploads } = schema;

/** A taken order whose node went quiet this long is handed out again (the node skips orders it is still working on). */
const REDELIVER_AFTER_SECONDS = 60;

// What a node sends (indexRecordInput, indexBatchInput) is part of the node protocol: @pathx/protocol.
export { indexBatchInput, indexRecordInput } from "@pathx/protocol";
export type { IndexRecord };

const rowsOf = <T>(result: unknown): T[] => (Array.isArray(result) ? (result as T[]) : (result as { rows: T[] }).rows);

/**
 * Registers a batch of index-only slides for the node's lab (a backlog of millions arrives in
 * batches): one statement finds the references the lab already has (and moves them to this
 * node), one object holds the batch's thumbnails, one statement adds the cases, one adds the
 * slides, and one event tells the lab's open pages. Nothing is done per record in the
 * database. A reference the lab already registered is not registered again, so re-running a
 * backlog, or several nodes sending at once, never makes a slide twice; a record the hub cannot
 * take is reported back by its position with the reason, and the rest of the batch still counts.
 */
export async function registerIndexedSlides(db: Db, store: ObjectStore, node: { id: string; labId: string }, records: IndexRecord[]) {
  const rejected: { index: number; reason: string }[] = [];
  const accepted: { index: number; record: IndexRecord; thumbnail?: Buffer }[] = [];
  // Every thumbnail is decoded straight into one buffer, back to back in batch order: when no
  // record of the batch was already known (a first run), that buffer is the pack as it is, with
  // no buffer per record and no copy into the pack (≈ 14 MB a batch of 500).
  const decoded = Buffer.allocUnsafe(records.reduce((sum, r) => sum + (r.thumbnail ? Buffer.byteLength(r.thumbnail, "base64") : 0), 0));
  let decodedBytes = 0;
  records.forEach((record, index) => {
    if (!SLIDE_FILE.test(record.fileName)) {
      rejected.push({ index, reason: `${record.fileName} is not a slide file (.svs, .ndpi, .tif, .tiff, .dcm)` });
      return;
    }
    if (!record.meta.accessionNumber.trim()) {
      rejected.push({ index, reason: `${record.fileName}: no accession number` });
      return;
    }
    const thumbnail = record.thumbnail ? decoded.subarray(decodedBytes, decodedBytes + decoded.write(record.thumbnail, decodedBytes, "base64")) : undefined;
    if (thumbnail && (thumbnail.length > MAX_THUMBNAIL_BYTES || thumbnail[0] !== 0xff || thumbnail[1] !== 0xd8)) {
      rejected.push({ index, reason: `${record.fileName}: the thumbnail must be a JPEG of at most 256 KB` });
      return;
    }
    if (thumbnail) decodedBytes += thumbnail.length;
    accepted.push({ index, record, thumbnail });
  });
  // The same reference twice in one batch counts once.
  const byRef = new Map(accepted.map((a) => [a.record.ref, a]));
  const refs = [...byRef.keys()];
  // A lab that re-enrolled its node keeps its index: orders go to the node that last registered a slide.
  const known = refs.length
    ? rowsOf<{ node_ref: string }>(
        await db.execute(sql`
          with known as (
            select id, node_ref, published_by_node_id from ${slides}
            where ${slides.labId} = ${node.labId} and ${slides.nodeRef} = any(${toTextArray(refs)})),
          moved as (
            update ${slides} set published_by_node_id = ${node.id} from known
            where ${slides.id} = known.id and known.published_by_node_id is distinct from ${node.id})
          select node_ref from known`),
      )
    : [];
  for (const k of known) byRef.delete(k.node_ref);
  const fresh = [...byRef.values()];
  if (fresh.length === 0) return { registered: 0, alreadyKnown: known.length, rejected };

  const accessions = new Map<string, IndexRecord>();
  for (const f of fresh) if (!accessions.has(f.record.meta.accessionNumber.trim())) accessions.set(f.record.meta.accessionNumber.trim(), f.record);
  await db
    .insert(cases)
    .values(
      [...accessions].map(([accessionNumber, first]) => ({
        labId: node.labId,
        accessionNumber,
        patientPseudonym: first.meta.patientPseudonym?.trim() || `unlinked-${randomUUID()}`,
        specimen: first.meta.specimen,
      })),
    )
    .onConflictDoNothing();

  // Thumbnails first, as one object: a row never points at a picture that is not there.
  const pack = `indexed/${node.labId}/${randomUUID()}.jpgs`;
  let offset = 0;
  const parts: Buffer[] = [];
  const input = fresh.map(({ record, thumbnail }) => {
    let thumbnailKey: string | null = null;
    if (thumbnail) {
      thumbnailKey = `${pack}#${offset}+${thumbnail.length}`;
      parts.push(thumbnail);
      offset += thumbnail.length;
    }
    return {
      ref: record.ref,
      file_name: record.fileName,
      size: record.size,
      accession: record.meta.accessionNumber.trim(),
      block: record.meta.block,
      stain: record.meta.stain,
      width: record.image.width,
      height: record.image.height,
      mpp_x: record.image.mppX,
      mpp_y: record.image.mppY,
      objective_power: record.image.objectivePower,
      vendor: record.image.vendor,
      thumbnail_key: thumbnailKey,
    };
  });
  // The fresh thumbnails are the decoded ones in the same order (nothing known, no duplicate): no copy.
  const asDecoded =
    offset === decodedBytes && parts.every((p, i) => p.byteOffset === (i === 0 ? decoded.byteOffset : parts[i - 1]!.byteOffset + parts[i - 1]!.length));
  if (parts.length) await store.put(pack, asDecoded ? decoded.subarray(0, offset) : Buffer.concat(parts), { contentType: "application/octet-stream" });
  // One statement for the whole batch; the cases are joined in SQL. A reference another batch
  // registered meanwhile (another node process of the lab) is skipped by the unique index.
  const inserted = rowsOf<{ id: string }>(
    await db.execute(sql`
      insert into ${slides} (lab_id, case_id, block, stain, status, file_name, size_bytes, width, height, mpp_x, mpp_y, objective_power, vendor, node_ref, published_by_node_id, thumbnail_key)
      select ${node.labId}, c.id, r.block, r.stain, 'indexed', r.file_name, r.size, r.width, r.height, r.mpp_x, r.mpp_y, r.objective_power, r.vendor, r.ref, ${node.id}, r.thumbnail_key
      from jsonb_to_recordset(${JSON.stringify(input)}::jsonb) as r(ref text, file_name text, size bigint, accession text, block text, stain text, width int, height int,
           mpp_x double precision, mpp_y double precision, objective_power double precision, vendor text, thumbnail_key text)
      join ${cases} c on c.lab_id = ${node.labId} and c.accession_number = r.accession
      on conflict do nothing
      returning id`),
  );
  // Every reference was registered by another batch at the same moment: nothing points at the pack.
  if (inserted.length === 0 && parts.length) await store.delete(pack).catch(() => {});
  // One event per batch, not per slide: a backlog registers thousands.
  if (inserted.length > 0)
    await publishEvent(db, { topic: labSlidesTopic(node.labId), labId: node.labId, payload: { kind: "slides-indexed", count: inserted.length } });
  return { registered: inserted.length, alreadyKnown: known.length + fresh.length - inserted.length, rejected };
}

/** A text[] parameter (one bound value, not one per element). */
const toTextArray = (values: string[]) => sql`${`{${values.map((v) => `"${v.replace(/["\\]/g, "\\$&")}"`).join(",")}}`}::text[]`;

/**
 * Someone at the hub opened an index-only slide: order its node to send the file. Asking
 * again while an order is out changes nothing; a failed fetch can be asked for again.
 */
export async function requestSlideFetch(db: Db, labId: string, slideId: string, userId: string, via: SlideAccess["via"] = "own-lab") {
  const [slide] = await db
    .select()
    .from(slides)
    .where(and(eq(slides.labId, labId), eq(slides.id, slideId)))
    .limit(1);
  if (!slide) throw notFound("Slide");
  if (via !== "own-lab")
    await recordAudit(db, { labId, actorUserId: userId, action: "slide.fetch.request", targetType: "slide", targetId: slideId, detail: { via } });
  const fetchable = slide.status === "indexed" || (slide.status === "failed" && !slide.sourceKey && slide.nodeRef);
  if (!fetchable) return { status: slide.status };
  const [node] = slide.publishedByNodeId ? await db.select().from(nodes).where(eq(nodes.id, slide.publishedByNodeId)).limit(1) : [];
  if (!node || node.revokedAt) {
    const reason = "The lab node that registered this slide was revoked; the lab must register or publish it again from an enrolled node.";
    await db.transaction(async (tx) => {
      await tx.update(slides).set({ status: "failed", failureReason: reason, updatedAt: new Date() }).where(eq(slides.id, slideId));
      await publishSlideChange(tx, { labId, slideId, status: "failed", failureReason: reason });
    });
    return { status: "failed" as const };
  }
  await db.transaction(async (tx) => {
    await tx
      .insert(fetchOrders)
      .values({ labId, nodeId: node.id, slideId, requestedBy: userId })
      .onConflictDoUpdate({
        target: fetchOrders.slideId,
        set: { status: "pending", nodeId: node.id, requestedBy: userId, takenAt: null, finishedAt: null, error: null, createdAt: new Date() },
      });
    await tx.update(slides).set({ status: "fetching", failureReason: null, updatedAt: new Date() }).where(eq(slides.id, slideId));
    await publishSlideChange(tx, { labId, slideId, status: "fetching" });
    // Wakes the node's waiting long poll on whichever hub process holds it.
    await publishEvent(tx, { topic: nodeOrdersTopic(node.id), labId, payload: { slideId } });
  });
  return { status: "fetching" as const };
}

/** A node's new fetch orders: hub-internal, it wakes the node's long poll (never sent to browsers). */
export const nodeOrdersTopic = (nodeId: string) => `node:${nodeId}:orders`;

/** How far a fetch has come, for the viewer's "fetching from the lab" line. */
export async function describeFetch(db: Db, slideId: string) {
  const [order] = await db.select().from(fetchOrders).where(eq(fetchOrders.slideId, slideId)).limit(1);
  if (!order) return undefined;
  const [upload] = await db
    .select({ received: uploads.receivedChunks })
    .from(uploads)
    .where(and(eq(uploads.slideId, slideId), eq(uploads.status, "open")))
    .limit(1);
  const chunks = upload?.received ?? "";
  return {
    status: order.status,
    requestedAt: order.createdAt,
    takenAt: order.takenAt,
    error: order.error,
    fraction: chunks.length ? [...chunks].filter((c) => c === "1").length / chunks.length : 0,
  };
}

/** Hands a node its pending orders (and ones it took but went quiet on, e.g. after a restart). */
export async function claimFetchOrders(db: Db, nodeId: string, max = 4) {
  const claimed = await db.execute<{ id: string; slide_id: string }>(sql`
    update ${fetchOrders} set status = 'taken', taken_at = now(), attempts = attempts + 1
    where id in (
      select id from ${fetchOrders}
      where node_id = ${nodeId}
        and (status = 'pending' or (status = 'taken' and taken_at < now() - make_interval(secs => ${REDELIVER_AFTER_SECONDS})))
      order by created_at limit ${max} for update skip locked)
    returning id, slide_id`);
  const list = Array.isArray(claimed) ? claimed : (claimed as unknown as { rows: { id: string; slide_id: string }[] }).rows;
  if (list.length === 0) return [];
  const rows = await db
    .select({ slideId: slides.id, ref: slides.nodeRef, fileName: slides.fileName, size: slides.sizeBytes })
    .from(slides)
    .where(
      inArray(
        slides.id,
        list.map((o) => o.slide_id),
      ),
    );
  const bySlide = new Map(rows.map((r) => [r.slideId, r]));
  return list.map((o) => ({ orderId: o.id, slideId: o.slide_id, ref: bySlide.get(o.slide_id)?.ref ?? "", fileName: bySlide.get(o.slide_id)?.fileName ?? "" }));
}

/** The order a node is sending a file for; only that node's own, still open, orders count. */
export async function findOpenOrder(db: Db, nodeId: string, orderId: string) {
  if (!/^[0-9a-f-]{36}$/.test(orderId)) throw notFound("Order");
  const [order] = await db
    .select()
    .from(fetchOrders)
    .where(and(eq(fetchOrders.id, orderId), eq(fetchOrders.nodeId, nodeId)))
    .limit(1);
  if (!order) throw notFound("Order");
  if (order.status === "done") throw new ApiError("CONFLICT", "This order is already fulfilled.");
  return order;
}

/** The node could not send the file (moved, unreadable): the slide says why, and can be asked for again. */
export async function failFetchOrder(db: Db, nodeId: string, orderId: string, reason: string) {
  const order = await findOpenOrder(db, nodeId, orderId);
  const text = reason.trim().slice(0, 500) || "no reason given";
  const failureReason = `The lab's node could not send this slide: ${text}. Open the slide again to retry once the lab has fixed it.`;
  await db.transaction(async (tx) => {
    await tx.update(fetchOrders).set({ status: "failed", error: text, finishedAt: new Date() }).where(eq(fetchOrders.id, order.id));
    await tx.update(slides).set({ status: "failed", failureReason, updatedAt: new Date() }).where(eq(slides.id, order.slideId));
    await publishSlideChange(tx, { labId: order.labId, slideId: order.slideId, status: "failed", failureReason });
  });
}
