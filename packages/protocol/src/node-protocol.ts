import type { Checkpoint, EntryTuple, SealedEntry } from "@pathx/audit";
import { z } from "zod";

/**
 * The lab node ↔ hub protocol: every route the node calls, with what it sends and what the hub
 * answers. The hub's routes parse requests with these schemas and must return what the answers
 * declare; the node sends the requests' types and checks each answer. A change here therefore
 * fails the type check of whichever side no longer matches.
 */

/** Raised only for a change an older peer cannot follow (additions keep it). */
export const NODE_PROTOCOL_VERSION = 1;
/** Sent both ways: the node's protocol on requests, the hub's on answers. */
export const PROTOCOL_HEADER = "x-pathx-protocol";
/** The node agent's release (the hub shows it in the lab's node list). */
export const AGENT_VERSION_HEADER = "x-pathx-version";
/** A chunk's SHA-256 (hex) beside its raw bytes. */
export const CHUNK_SHA256_HEADER = "x-chunk-sha256";

/** How much of a file's start the hub judges before an upload (the engine's HEADER_BYTES; an api test keeps them equal). */
export const SLIDE_HEADER_BYTES = 64 * 1024;
/** A thumbnail of an index-only slide: a JPEG of at most this many bytes. */
export const MAX_THUMBNAIL_BYTES = 256 * 1024;
/** Long poll for orders: the hub holds the request at most this long. */
export const MAX_ORDER_WAIT_SECONDS = 30;
/** Audit entries per page at most. */
export const MAX_AUDIT_PAGE = 5000;

/** The only patient link the hub accepts: HMAC-SHA-256 of the patient id under the labs' key, which the hub never sees. */
export const PSEUDONYM = /^hmac-sha256:[0-9a-f]{64}$/;
const pseudonymInput = z
  .string()
  .trim()
  .regex(PSEUDONYM, "patientPseudonym must be hmac-sha256:<64 hex digits>, computed by the lab's node; a patient id is never sent")
  .optional()
  .or(z.literal("").transform(() => undefined));

/** A slide's case details, checked the same way for browsers (tRPC) and lab nodes (HTTP). */
export const uploadMetaInput = z.object({
  accessionNumber: z.string().max(64),
  block: z.string().max(32),
  stain: z.string().max(64),
  specimen: z.string().max(500),
  patientPseudonym: pseudonymInput,
});

/** What starting an upload takes. */
export const uploadStartInput = z.object({
  fileName: z.string().min(1).max(255),
  size: z.number().int().positive(),
  sha256: z.string(),
  meta: uploadMetaInput,
  /** The file's first bytes (base64, up to 64 KiB): a file that is no slide is refused before it is sent. */
  header: z
    .string()
    .max(Math.ceil(SLIDE_HEADER_BYTES / 3) * 4)
    .optional(),
});

/** A node's upload; with orderId it is the file of an index-only slide the hub ordered, filling that slide. */
export const nodeUploadStartInput = uploadStartInput.extend({ orderId: z.string().optional() });

/** A file the lab already has is not sent again; otherwise the upload to continue, with the chunks the hub holds. */
export const uploadStartAnswer = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("duplicate"), slideId: z.string() }),
  z.object({
    kind: z.literal("open"),
    uploadId: z.string(),
    chunkSize: z.number().int().positive(),
    chunkCount: z.number().int().positive(),
    received: z.array(z.number().int().min(0)),
  }),
]);

export const uploadCompleteAnswer = z.object({ slideId: z.string() });

/** One slide a node makes findable without sending its pixels: metadata and a small JPEG thumbnail. */
export const indexRecordInput = z.object({
  ref: z.string().regex(/^[\w-]{16,4096}$/, "ref must be the node's opaque file reference"),
  fileName: z.string().min(1).max(255),
  size: z.number().int().positive(),
  meta: uploadMetaInput,
  image: z.object({
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    mppX: z.number().positive().nullable(),
    mppY: z.number().positive().nullable(),
    objectivePower: z.number().positive().nullable(),
    vendor: z.string().max(64),
  }),
  /** Base64 JPEG, at most 256 KB. */
  thumbnail: z
    .string()
    .max(Math.ceil((MAX_THUMBNAIL_BYTES * 4) / 3) + 4)
    .optional(),
});
export const indexBatchInput = z.object({ records: z.array(indexRecordInput).min(1).max(1000) });

/** Records the hub could not take come back by their position in the batch, with the reason. */
export const indexAnswer = z.object({
  registered: z.number().int().min(0),
  alreadyKnown: z.number().int().min(0),
  rejected: z.array(z.object({ index: z.number().int().min(0), reason: z.string() })),
});

export const enrollInput = z.object({ token: z.string().min(1).max(200), name: z.string().max(200).optional(), version: z.string().max(100).optional() });
export const enrollAnswer = z.object({ nodeId: z.string(), credential: z.string(), lab: z.object({ slug: z.string(), name: z.string() }) });

/** The lab's sharing policy, applied by the node before anything leaves the lab. */
export const policyAnswer = z.object({ shareLabelMacro: z.boolean() });

/** Any number that is not one counts as no wait; the hub holds the poll at most MAX_ORDER_WAIT_SECONDS. */
export const ordersQuery = z.object({
  wait: z
    .string()
    .optional()
    .transform((s) => Math.min(MAX_ORDER_WAIT_SECONDS, Math.max(0, Number(s ?? 0) || 0))),
});
export const fetchOrder = z.object({ orderId: z.string(), slideId: z.string(), ref: z.string(), fileName: z.string() });
export const ordersAnswer = z.object({ orders: z.array(fetchOrder) });

export const orderFailureInput = z.object({ reason: z.string().max(2000) });

/** A node's heartbeat: how many slides wait on it and its last problem. */
export const nodeStatusInput = z.object({ queueDepth: z.number().int().min(0), lastError: z.string().max(2000).nullable() });

/** The body of a route that takes none but JSON: the node sends {}, the hub reads nothing. */
export const emptyInput = z.object({});

/** What routes without an answer of their own say. */
export const okAnswer = z.object({ ok: z.literal(true) });
export const OK = { ok: true } as const;

/** Every refusal or failure: a message the node prints as it is (the HTTP status carries the code, see @pathx/errors). */
export const errorAnswer = z.object({ error: z.string() });

const checkpoint = z.object({
  labId: z.string().nullable(),
  seq: z.number().int().min(0),
  hash: z.string(),
  signedAt: z.string(),
  keyId: z.string(),
  signature: z.string(),
}) satisfies z.ZodType<Checkpoint>;
/** The lab's audit chain head, signed, and the key to check it with. */
export const auditCheckpointAnswer = z.object({ labId: z.string(), checkpoint: checkpoint.nullable(), keyId: z.string(), publicKey: z.string() });

export const auditEntriesQuery = z.object({
  after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  limit: z.coerce.number().int().min(1).max(MAX_AUDIT_PAGE).default(MAX_AUDIT_PAGE),
  /** Nodes that read tuples ask for them; anything else gets entry objects. */
  shape: z
    .string()
    .optional()
    .transform((s): "tuples" | "objects" => (s === "tuples" ? "tuples" : "objects")),
});
// Entries are checked by the chain verifier (their hashes and links), not by shape here: an entry
// a hub altered is reported as the broken link it is, and 5 000 entries a page cost nothing extra.
export const auditEntriesAnswer = z.discriminatedUnion("shape", [
  z.object({ labId: z.string().nullable(), shape: z.literal("tuples"), entries: z.array(z.custom<EntryTuple>((v) => Array.isArray(v))) }),
  // A hub from before the tuples sends no shape, only entry objects.
  z.object({
    labId: z.string().nullable(),
    shape: z.literal("objects").optional(),
    entries: z.array(z.custom<SealedEntry>((v) => typeof v === "object" && v !== null && !Array.isArray(v))),
  }),
]);

type Method = "GET" | "POST" | "PUT";

/** One route: its method, its path (a function when the path names a resource), what it takes, what it answers. */
export interface NodeRoute<P, B extends z.ZodType | undefined, Q extends z.ZodType | undefined, A extends z.ZodType> {
  method: Method;
  path: (params: P) => string;
  body: B;
  query: Q;
  answer: A;
}

const route = <P = void, B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, A extends z.ZodType = typeof okAnswer>(r: {
  method: Method;
  path: (params: P) => string;
  body?: B;
  query?: Q;
  answer?: A;
}): NodeRoute<P, B, Q, A> => ({ method: r.method, path: r.path, body: r.body as B, query: r.query as Q, answer: (r.answer ?? okAnswer) as A });

const segment = (id: string | number) => encodeURIComponent(String(id));
const search = (query: Record<string, string | number | undefined>) => {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : "";
};

/** Every route of the node API (under /api/node, Bearer node credential except enrolment). */
export const nodeRoutes = {
  /** A one-time enrolment token for the node's own credential. */
  enroll: route({ method: "POST", path: () => "/api/node/enroll", body: enrollInput, answer: enrollAnswer }),
  policy: route({ method: "GET", path: () => "/api/node/policy", answer: policyAnswer }),
  startUpload: route({ method: "POST", path: () => "/api/node/uploads", body: nodeUploadStartInput, answer: uploadStartAnswer }),
  /** Raw bytes, their SHA-256 in CHUNK_SHA256_HEADER; a damaged chunk answers 422 and is sent again. */
  sendChunk: route({ method: "PUT", path: (p: { uploadId: string; index: number }) => `/api/node/uploads/${segment(p.uploadId)}/chunks/${segment(p.index)}` }),
  /** 409: chunks missing (send them and complete again); 422: the joined file is damaged. */
  completeUpload: route({
    method: "POST",
    path: (p: { uploadId: string }) => `/api/node/uploads/${segment(p.uploadId)}/complete`,
    body: emptyInput,
    answer: uploadCompleteAnswer,
  }),
  index: route({ method: "POST", path: () => "/api/node/index", body: indexBatchInput, answer: indexAnswer }),
  orders: route({ method: "GET", path: (p: { wait: number }) => `/api/node/orders${search({ wait: p.wait })}`, query: ordersQuery, answer: ordersAnswer }),
  failOrder: route({ method: "POST", path: (p: { orderId: string }) => `/api/node/orders/${segment(p.orderId)}/fail`, body: orderFailureInput }),
  status: route({ method: "POST", path: () => "/api/node/status", body: nodeStatusInput }),
  auditCheckpoint: route({ method: "GET", path: () => "/api/node/audit", answer: auditCheckpointAnswer }),
  auditEntries: route({
    method: "GET",
    path: (p: { after: number; limit?: number; shape?: "tuples" }) => `/api/node/audit/entries${search(p)}`,
    query: auditEntriesQuery,
    answer: auditEntriesAnswer,
  }),
} as const;

export type NodeRoutes = typeof nodeRoutes;
export type NodeRouteName = keyof NodeRoutes;
/** What the hub answers on a route, as the node reads it. */
export type NodeAnswer<N extends NodeRouteName> = z.output<NodeRoutes[N]["answer"]>;
/** What a hub route handler may return for it. */
export type NodeAnswerInput<N extends NodeRouteName> = z.input<NodeRoutes[N]["answer"]>;
/** What the node sends as a route's JSON body. */
export type NodeRequestBody<N extends NodeRouteName> = NodeRoutes[N]["body"] extends z.ZodType ? z.input<NodeRoutes[N]["body"]> : never;
export type NodeRouteParams<N extends NodeRouteName> = Parameters<NodeRoutes[N]["path"]>[0];

export type UploadMeta = z.output<typeof uploadMetaInput>;
export type UploadState = z.output<typeof uploadStartAnswer>;
export type IndexRecord = z.output<typeof indexRecordInput>;
export type FetchOrder = z.output<typeof fetchOrder>;

/** Reads a route's query string with its schema (the first value of each key, as URLSearchParams.get does). */
export function parseNodeQuery<Q extends z.ZodType>(schema: Q, url: URL | string): z.ZodSafeParseResult<z.output<Q>> {
  const params = new URL(url).searchParams;
  const raw: Record<string, string> = {};
  for (const key of params.keys()) raw[key] ??= params.get(key)!;
  return schema.safeParse(raw) as z.ZodSafeParseResult<z.output<Q>>;
}
