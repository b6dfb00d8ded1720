export { ApiError, type ApiErrorCode, httpStatusOf, notFound } from "./errors";
export { appRouter, type AppRouter } from "./routers/index";
export { createContext, createCallerFactory, type ApiContext, type ApiDeps } from "./trpc";
export { authenticateWithPassword, findUserIdByEmail, loadSessionUser, type Membership, type SessionUser } from "./domain/users";
export { hashPassword, verifyPassword } from "./domain/passwords";
export type { SlideRow } from "./domain/slides";
export { PRIOR_VIEW_HOURS, hasOpenCaseForPatientOf, resolveSlideAccess, tileAccessFor, type SlideAccess, type TileAccess } from "./access/slide-access";
export { accessRules, type AccessRule } from "./access/rules";
export { exportAnnotationsGeoJson, type AnnotationGeometry, type AnnotationKind, type AnnotationView } from "./domain/annotations";
export { derivedKeyOf, prepareSlideForViewing, storeThumbnail, thumbnailKeyOf } from "./domain/slide-viewing";
export { labSharesLabelMacro } from "./domain/lab-policy";
export { isPackedThumbnail } from "./domain/thumbnail-key";
export type { TilingQueue } from "./jobs/tiling-queue";
export {
  claimFetchOrders,
  describeFetch,
  failFetchOrder,
  nodeOrdersTopic,
  findOpenOrder,
  indexBatchInput,
  readThumbnail,
  registerIndexedSlides,
  requestSlideFetch,
  type IndexRecord,
} from "./domain/indexed-slides";
export { CHUNK_SIZE, completeUpload, expectChunk, receiveChunk, startUpload, uploadStartInput, type UploadMeta, type UploadState } from "./domain/uploads";
export { authenticateNode, createEnrollmentToken, enrollNode, listLabNodes, reportNodeStatus, revokeNode } from "./domain/nodes";
export { boardTopic, createBusBoardChannel, createInProcessBoardChannel, type BoardChannel, type BoardEvent, type BoardView } from "./live/board-channel";
export { BOARD_GRANT_GRACE_HOURS } from "./domain/boards";
export { boardViewInput, moveBoardView, openLiveSession, recordAttendance, type BoardViewInput } from "./domain/board-live";
export { MAX_SNAPSHOT_BYTES, addSnapshot, readSnapshot, snapshotTooLarge } from "./domain/board-sessions";
export { boardMinutesMarkdown } from "./domain/board-minutes";
export { notify } from "./domain/notifications";
export { describeCode, reportCodeSystems, type ReportCode, type ReportCodeSystem } from "./domain/report-codes";
export { readApiEnv, type ApiEnv } from "./env";
export { EVENTS_CHANNEL, createEventHub, publishEvent, publishEvents, pruneEvents, type BusEvent, type EventHub, type EventInput } from "./events/bus";
export { labSlidesTopic, publishSlideChange, refusedTopics, slideEvents, slideTopic, type SlideChange, type SlideEventPayload } from "./events/topics";
export { issueTileToken, pyramidVersionOf, type TileAccessGrant, type TileTokenSettings } from "./domain/tile-tokens";
export { REVOCATIONS_TOPIC, parseRevocation, publishAccessRevocation, readRecentRevocations, usersOf, type Revocation } from "./events/revocations";
export { watchTopicRights } from "./events/stream-rights";
export { recordAudit, readAuditChainPage, type AuditEvent } from "./domain/audit";
export {
  checkpointAllAuditChains,
  checkpointAuditChain,
  listAuditCheckpoints,
  readAuditChainState,
  verifyAuditChain,
  type AuditChainState,
} from "./domain/audit-chain";
export { loadAuditSigningKey, type AuditSigningKey } from "./audit/signing-key";
export { PEER_HEADER, clientAddress, requestOriginOf, runWithRequestOrigin } from "./audit/request-context";
export { activeSessionUser, endSession, endUserSessions, startSession, type SessionEndReason } from "./domain/sessions";
export { THROTTLE, signInWithPassword, type PasswordSignIn } from "./domain/sign-in";
export { resolveOidcSignIn, type OidcClaims, type OidcRefusal, type OidcSignIn } from "./domain/oidc";
export { BODY_LIMITS, MAX_TRPC_BATCH, bodyTooLarge, readBoundedBody, readBoundedJson, type BodyLimits } from "./http/bounded-body";
export { handleTrpcRequest } from "./http/trpc-handler";
export { isUuid } from "./http/ids";
