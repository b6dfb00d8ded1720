import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

export const roleEnum = pgEnum("lab_role", ["pathologist", "lab_admin"]);
/**
 * indexed: only metadata and a thumbnail are at the hub, the pixels stay at the lab;
 * fetching: the lab's node was ordered to send the file.
 */
export const slideStatusEnum = pgEnum("slide_status", ["indexed", "fetching", "received", "tiling", "ready", "failed"]);
export const fetchOrderStatusEnum = pgEnum("fetch_order_status", ["pending", "taken", "done", "failed"]);
export const caseStatusEnum = pgEnum("case_status", ["open", "signed_out"]);
export const consultStatusEnum = pgEnum("consult_status", ["draft", "sent", "accepted", "declined", "reported", "closed", "withdrawn"]);
export const urgencyEnum = pgEnum("urgency", ["routine", "urgent"]);
export const grantReasonEnum = pgEnum("grant_reason", ["consult", "board"]);
export const boardSessionStatusEnum = pgEnum("board_session_status", ["planned", "live", "closed"]);
export const boardConclusionKindEnum = pgEnum("board_conclusion_kind", ["contribution", "agreed", "addendum"]);
export const uploadStatusEnum = pgEnum("upload_status", ["open", "complete", "aborted"]);

const id = () => uuid("id").primaryKey().default(sql`gen_random_uuid()`);
const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

/** A lab is a tenant: every clinical row carries its lab_id. */
export const labs = pgTable("labs", {
  id: id(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  /** Whether label and macro images (they show the patient's name) may leave the lab. */
  shareLabelMacro: boolean("share_label_macro").notNull().default(false),
  createdAt: createdAt(),
});

export const users = pgTable("users", {
  id: id(),
  email: text("email").notNull().unique(),
  name: text("name").notNull(),
  /** scrypt hash; null for users who only sign in through their lab's identity provider. */
  passwordHash: text("password_hash"),
  isHubAdmin: boolean("is_hub_admin").notNull().default(false),
  createdAt: createdAt(),
});

export const memberships = pgTable(
  "memberships",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    labId: uuid("lab_id")
      .notNull()
      .references(() => labs.id, { onDelete: "cascade" }),
    role: roleEnum("role").notNull(),
    /** Subspecialty pools the member answers second opinions for, e.g. "dermatopathology". */
    subspecialties: text("subspecialties").array().notNull().default(sql`'{}'::text[]`),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.labId] }), index("memberships_lab_idx").on(t.labId)],
);

export const invitationStatusEnum = pgEnum("invitation_status", ["pending", "accepted", "declined"]);

/**
 * A lab admin's invitation of an existing account to the lab: nothing changes for that person
 * until they accept it (an admin cannot pull another lab's pathologist into their own lab).
 */
export const labInvitations = pgTable(
  "lab_invitations",
  {
    id: id(),
    labId: uuid("lab_id")
      .notNull()
      .references(() => labs.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: roleEnum("role").notNull(),
    invitedBy: uuid("invited_by").references(() => users.id, { onDelete: "set null" }),
    status: invitationStatusEnum("status").notNull().default("pending"),
    respondedAt: timestamp("responded_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index("lab_invitations_user_idx").on(t.userId, t.status),
    uniqueIndex("lab_invitations_pending_idx").on(t.labId, t.userId).where(sql`status = 'pending'`),
  ],
);

export const cases = pgTable(
  "cases",
  {
    id: id(),
    labId: uuid("lab_id")
      .notNull()
      .references(() => labs.id, { onDelete: "cascade" }),
    accessionNumber: text("accession_number").notNull(),
    /** Keyed pseudonym of the patient's national id, made at the lab; never the id itself. */
    patientPseudonym: text("patient_pseudonym").notNull(),
    specimen: text("specimen").notNull().default(""),
    /** Open while the lab works on the case: prior studies of its patient may be looked up only then. */
    status: caseStatusEnum("status").notNull().default("open"),
    collectedAt: timestamp("collected_at", { withTimezone: true }),
    receivedAt: timestamp("received_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("cases_lab_accession_idx").on(t.labId, t.accessionNumber), index("cases_pseudonym_idx").on(t.patientPseudonym)],
);

export const slides = pgTable(
  "slides",
  {
    id: id(),
    labId: uuid("lab_id")
      .notNull()
      .references(() => labs.id, { onDelete: "cascade" }),
    caseId: uuid("case_id")
      .notNull()
      .references(() => cases.id, { onDelete: "cascade" }),
    block: text("block").notNull().default(""),
    stain: text("stain").notNull().default(""),
    status: slideStatusEnum("status").notNull().default("received"),
    failureReason: text("failure_reason"),
    /** Tiling progress 0..1 while status is tiling. */
    progress: real("progress").notNull().default(0),
    fileName: text("file_name").notNull(),
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull(),
    /** Null while the slide is index-only: the hub has not seen the file yet. */
    sha256: text("sha256"),
    width: integer("width"),
    height: integer("height"),
    mppX: doublePrecision("mpp_x"),
    mppY: doublePrecision("mpp_y"),
    objectivePower: doublePrecision("objective_power"),
    vendor: text("vendor"),
    sourceKey: text("source_key"),
    /**
     * The publishing node's opaque reference to the file in the lab (encrypted by the node, so
     * the hub never learns paths, which can name patients): how an index-only slide is fetched.
     */
    nodeRef: text("node_ref"),
    /** Prefix under which `<prefix>/slide.dzi` and `<prefix>/slide_files/` live. */
    tilesPrefix: text("tiles_prefix"),
    thumbnailKey: text("thumbnail_key"),
    /** The lab node that published it (null: uploaded in the browser). */
    publishedByNodeId: uuid("published_by_node_id"),
    labelKey: text("label_key"),
    macroKey: text("macro_key"),
    /**
     * Which tiling attempt owns the slide ("<job id>:<random>"): only that attempt may write
     * the result, so a stale worker whose job expired and was retried elsewhere cannot.
     */
    tilingClaim: text("tiling_claim"),
    /** Times a tiling attempt completed (status ready written): 1 per tiling request. */
    tilingRuns: integer("tiling_runs").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("slides_lab_idx").on(t.labId),
    index("slides_case_idx").on(t.caseId),
    uniqueIndex("slides_lab_sha_idx").on(t.labId, t.sha256),
    uniqueIndex("slides_lab_node_ref_idx").on(t.labId, t.nodeRef),
  ],
);

/** A resumable chunked upload: chunks land in storage, the bitmap says which. */
export const uploads = pgTable(
  "uploads",
  {
    id: id(),
    labId: uuid("lab_id")
      .notNull()
      .references(() => labs.id, { onDelete: "cascade" }),
    userId: uuid("user_id").references(() => users.id, { onDelete: "set null" }),
    fileName: text("file_name").notNull(),
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull(),
    sha256: text("sha256").notNull(),
    chunkSize: integer("chunk_size").notNull(),
    /** One character per chunk: "1" received, "0" missing. */
    receivedChunks: text("received_chunks").notNull(),
    status: uploadStatusEnum("status").notNull().default("open"),
    /** Case metadata the slide is registered with when the upload completes. */
    meta: jsonb("meta").notNull().default({}),
    slideId: uuid("slide_id").references(() => slides.id, { onDelete: "set null" }),
    nodeId: uuid("node_id"),
    /** Set while one request joins the chunks: concurrent completions wait instead of making a second slide. */
    completingAt: timestamp("completing_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("uploads_lab_idx").on(t.labId)],
);

/**
 * The audit trail: one append-only hash chain per lab (lab_id null: the hub's own chain). Each
 * entry carries a gap-free sequence number within its chain, the previous entry's hash and the
 * SHA-256 of its RFC 8785 canonical JSON (`@pathx/audit`). A trigger refuses UPDATE, DELETE and
 * TRUNCATE and checks each insert links to its chain's head (migration 0006). No foreign key
 * rewrites a row: a deleted user's id stays as it was recorded.
 */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: id(),
    labId: uuid("lab_id").references(() => labs.id),
    actorUserId: uuid("actor_user_id"),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    detail: jsonb("detail").notNull().default({}),
    ip: text("ip"),
    seq: bigint("seq", { mode: "number" }).notNull(),
    /** Null only on rows written before the chain existed, until the hub seals them at start. */
    prevHash: text("prev_hash"),
    hash: text("hash"),
    createdAt: createdAt(),
  },
  (t) => [
    index("audit_lab_time_idx").on(t.labId, t.createdAt),
    index("audit_target_idx").on(t.targetType, t.targetId),
    unique("audit_chain_seq").on(t.labId, t.seq).nullsNotDistinct(),
  ],
);

/** Signed heads of the audit chains (Ed25519, key outside the database), sent to the lab's nodes as witnesses. */
export const auditCheckpoints = pgTable(
  "audit_checkpoints",
  {
    id: id(),
    labId: uuid("lab_id").references(() => labs.id),
    seq: bigint("seq", { mode: "number" }).notNull(),
    hash: text("hash").notNull(),
    signedAt: timestamp("signed_at", { withTimezone: true }).notNull(),
    keyId: text("key_id").notNull(),
    signature: text("signature").notNull(),
  },
  (t) => [unique("audit_checkpoint_seq").on(t.labId, t.seq).nullsNotDistinct()],
);

/** A lab's node agent: authenticates with a credential the hub keeps only as a hash. */
export const nodes = pgTable(
  "nodes",
  {
    id: id(),
    labId: uuid("lab_id")
      .notNull()
      .references(() => labs.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    credentialHash: text("credential_hash").notNull().unique(),
    version: text("version"),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }),
    /** Slides waiting on the node, and its last problem, as it reported them. */
    queueDepth: integer("queue_depth").notNull().default(0),
    lastError: text("last_error"),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index("nodes_lab_idx").on(t.labId)],
);

/** One-time tokens a lab admin hands to whoever installs the lab's node. */
export const enrollmentTokens = pgTable("enrollment_tokens", {
  id: id(),
  labId: uuid("lab_id")
    .notNull()
    .references(() => labs.id, { onDelete: "cascade" }),
  tokenHash: text("token_hash").notNull().unique(),
  createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  usedAt: timestamp("used_at", { withTimezone: true }),
  nodeId: uuid("node_id").references(() => nodes.id, { onDelete: "set null" }),
  createdAt: createdAt(),
});

/**
 * An order to a lab node to send an index-only slide's file. Nodes fetch their orders (long
 * poll): the hub never opens a connection into a lab. One order per slide; a taken order not
 * finished within the hub's deadline is handed out again.
 */
export const fetchOrders = pgTable(
  "fetch_orders",
  {
    id: id(),
    labId: uuid("lab_id")
      .notNull()
      .references(() => labs.id, { onDelete: "cascade" }),
    nodeId: uuid("node_id")
      .notNull()
      .references(() => nodes.id, { onDelete: "cascade" }),
    slideId: uuid("slide_id")
      .notNull()
      .unique()
      .references(() => slides.id, { onDelete: "cascade" }),
    status: fetchOrderStatusEnum("status").notNull().default("pending"),
    requestedBy: uuid("requested_by").references(() => users.id, { onDelete: "set null" }),
    attempts: integer("attempts").notNull().default(0),
    takenAt: timestamp("taken_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    error: text("error"),
    createdAt: createdAt(),
  },
  (t) => [index("fetch_orders_node_status_idx").on(t.nodeId, t.status)],
);

/**
 * Live events (tiling progress, board sync, inbox) for every hub process: a row per event, a
 * `NOTIFY pathx_events` wakes the listeners, which read rows after the last id they saw, so
 * nothing is lost across processes and a client reconnecting with Last-Event-ID catches up.
 * Pruned after a day.
 */
export const events = pgTable(
  "events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    topic: text("topic").notNull(),
    labId: uuid("lab_id").references(() => labs.id, { onDelete: "cascade" }),
    payload: jsonb("payload").notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index("events_created_idx").on(t.createdAt)],
);

/**
 * A second-opinion request from one lab's pathologist to a named pathologist or a subspecialty
 * pool of another lab, about chosen slides of one case.
 */
export const consultRequests = pgTable(
  "consult_requests",
  {
    id: id(),
    requesterLabId: uuid("requester_lab_id")
      .notNull()
      .references(() => labs.id, { onDelete: "cascade" }),
    requesterUserId: uuid("requester_user_id")
      .notNull()
      .references(() => users.id),
    caseId: uuid("case_id")
      .notNull()
      .references(() => cases.id, { onDelete: "cascade" }),
    question: text("question").notNull(),
    urgency: urgencyEnum("urgency").notNull().default("routine"),
    targetLabId: uuid("target_lab_id")
      .notNull()
      .references(() => labs.id),
    /** A named consultant, or null when addressed to the lab's subspecialty pool. */
    targetUserId: uuid("target_user_id").references(() => users.id),
    targetSubspecialty: text("target_subspecialty"),
    /** Who accepted it. */
    consultantUserId: uuid("consultant_user_id").references(() => users.id),
    status: consultStatusEnum("status").notNull().default("draft"),
    declineReason: text("decline_reason"),
    /** Whether the consultant may see the label image (the requesting lab's choice). */
    shareLabel: boolean("share_label").notNull().default(false),
    sentAt: timestamp("sent_at", { withTimezone: true }),
    acceptedAt: timestamp("accepted_at", { withTimezone: true }),
    reportedAt: timestamp("reported_at", { withTimezone: true }),
    closedAt: timestamp("closed_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("consult_requester_idx").on(t.requesterLabId), index("consult_target_idx").on(t.targetLabId)],
);

export const consultSlides = pgTable(
  "consult_slides",
  {
    requestId: uuid("request_id")
      .notNull()
      .references(() => consultRequests.id, { onDelete: "cascade" }),
    slideId: uuid("slide_id")
      .notNull()
      .references(() => slides.id, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.requestId, t.slideId] })],
);

/** The consultant's answer. Codes are free fields, e.g. {"snomed": "…", "icdO": "8720/3"}. */
export const consultReports = pgTable("consult_reports", {
  id: id(),
  requestId: uuid("request_id")
    .notNull()
    .unique()
    .references(() => consultRequests.id, { onDelete: "cascade" }),
  authorUserId: uuid("author_user_id")
    .notNull()
    .references(() => users.id),
  diagnosis: text("diagnosis").notNull(),
  comment: text("comment").notNull().default(""),
  codes: jsonb("codes").notNull().default({}),
  createdAt: createdAt(),
});

/**
 * Read access to one slide of another lab, for a reason (a consult or a board session). A grant
 * counts while not revoked and not past expires_at (null: until the consult or session ends,
 * when expires_at is set to the end plus a grace period).
 */
export const accessGrants = pgTable(
  "access_grants",
  {
    id: id(),
    slideId: uuid("slide_id")
      .notNull()
      .references(() => slides.id, { onDelete: "cascade" }),
    granteeUserId: uuid("grantee_user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    reason: grantReasonEnum("reason").notNull(),
    /** The consult request or board session the grant belongs to. */
    sourceId: uuid("source_id").notNull(),
    shareLabel: boolean("share_label").notNull().default(false),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index("grants_slide_user_idx").on(t.slideId, t.granteeUserId), index("grants_source_idx").on(t.sourceId)],
);

/**
 * Annotations in slide pixel coordinates (level 0), stored as a GeoJSON Feature with the
 * slide's MPP at the time, so lengths and areas in µm can be recomputed and exported.
 */
export const annotations = pgTable(
  "annotations",
  {
    id: id(),
    slideId: uuid("slide_id")
      .notNull()
      .references(() => slides.id, { onDelete: "cascade" }),
    authorUserId: uuid("author_user_id")
      .notNull()
      .references(() => users.id),
    authorLabId: uuid("author_lab_id")
      .notNull()
      .references(() => labs.id),
    /** point | line | rectangle | polygon | text */
    kind: text("kind").notNull(),
    feature: jsonb("feature").notNull(),
    label: text("label").notNull().default(""),
    lengthUm: doublePrecision("length_um"),
    areaUm2: doublePrecision("area_um2"),
    mpp: doublePrecision("mpp"),
    /** Shared with a consult or a board session (null: the author's lab only). */
    consultRequestId: uuid("consult_request_id").references(() => consultRequests.id, { onDelete: "set null" }),
    boardSessionId: uuid("board_session_id"),
    createdAt: createdAt(),
  },
  (t) => [index("annotations_slide_idx").on(t.slideId)],
);

/** A multidisciplinary panel with members from several labs and a chair. */
export const boards = pgTable("boards", {
  id: id(),
  name: text("name").notNull(),
  chairUserId: uuid("chair_user_id")
    .notNull()
    .references(() => users.id),
  createdAt: createdAt(),
});

export const boardMembers = pgTable(
  "board_members",
  {
    boardId: uuid("board_id")
      .notNull()
      .references(() => boards.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.boardId, t.userId] })],
);

export const boardSessions = pgTable("board_sessions", {
  id: id(),
  boardId: uuid("board_id")
    .notNull()
    .references(() => boards.id, { onDelete: "cascade" }),
  scheduledAt: timestamp("scheduled_at", { withTimezone: true }).notNull(),
  status: boardSessionStatusEnum("status").notNull().default("planned"),
  presenterUserId: uuid("presenter_user_id").references(() => users.id),
  /** The presenter's last view: {slideId, centre: [x, y], zoom, rotation}. */
  viewState: jsonb("view_state"),
  endedAt: timestamp("ended_at", { withTimezone: true }),
  createdAt: createdAt(),
});

/** A case on a session's agenda; its slides are shared with the board's members for the session. */
export const boardAgendaItems = pgTable(
  "board_agenda_items",
  {
    id: id(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => boardSessions.id, { onDelete: "cascade" }),
    caseId: uuid("case_id")
      .notNull()
      .references(() => cases.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    /** Snapshots (object keys of JPEG views) taken while the case was discussed. */
    snapshotKeys: jsonb("snapshot_keys").notNull().default([]),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("agenda_session_case_idx").on(t.sessionId, t.caseId)],
);

/**
 * What the board concluded on an agenda item, append-only: each member's contribution with its
 * author and time, the chair's marks of the agreed conclusion (the latest counts, earlier ones
 * stay as history) and, once the session is closed, signed addenda instead of edits.
 */
export const boardConclusions = pgTable(
  "board_conclusions",
  {
    id: id(),
    itemId: uuid("item_id")
      .notNull()
      .references(() => boardAgendaItems.id, { onDelete: "cascade" }),
    kind: boardConclusionKindEnum("kind").notNull(),
    authorUserId: uuid("author_user_id")
      .notNull()
      .references(() => users.id),
    text: text("text").notNull(),
    /** For "agreed": the contribution the chair marked. */
    basedOn: uuid("based_on"),
    createdAt: createdAt(),
  },
  (t) => [index("board_conclusions_item_idx").on(t.itemId, t.createdAt)],
);

/** The in-app inbox: requests, replies, board agendas. */
export const notifications = pgTable(
  "notifications",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    title: text("title").notNull(),
    link: text("link").notNull(),
    readAt: timestamp("read_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index("notifications_user_idx").on(t.userId, t.createdAt)],
);

/**
 * A signed-in browser session: its id travels in the session JWT and is checked on every
 * request, so signing out, removing a member or "sign out everywhere" ends it at once.
 */
export const sessions = pgTable(
  "sessions",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** "password" or "oidc:<issuer>". */
    method: text("method").notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    /** signed-out, member-removed, signed-out-everywhere. */
    endReason: text("end_reason"),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

/**
 * Failed sign-ins per key ("account:<email>", "address:<ip>"): shared by every hub process, so
 * spreading guesses over hubs gains nothing.
 */
export const signInThrottle = pgTable("sign_in_throttle", {
  key: text("key").primaryKey(),
  failures: integer("failures").notNull().default(0),
  lockedUntil: timestamp("locked_until", { withTimezone: true }),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
});

/** A user linked to a lab identity provider's stable subject on their first verified sign-in. */
export const oidcLinks = pgTable(
  "oidc_links",
  {
    issuer: text("issuer").notNull(),
    subject: text("subject").notNull(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    labId: uuid("lab_id")
      .notNull()
      .references(() => labs.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.issuer, t.subject] }), uniqueIndex("oidc_links_issuer_user_idx").on(t.issuer, t.userId)],
);
