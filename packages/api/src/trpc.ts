import { randomUUID } from "node:crypto";
import { TRPCError, type TRPC_ERROR_CODE_KEY, initTRPC } from "@trpc/server";
import type { Db } from "@pathx/db";
import type { ObjectStore } from "@pathx/storage";
import { requestOriginOf, runWithRequestOrigin } from "./audit/request-context";
import type { AuditSigningKey } from "./audit/signing-key";
import { recordAudit } from "./domain/audit";
import { ApiError } from "./errors";
import type { BoardChannel } from "./live/board-channel";
import type { TileTokenSettings } from "./domain/tile-tokens";
import type { TilingQueue } from "./jobs/tiling-queue";
import { type Membership, type SessionUser, loadSessionUser } from "./domain/users";

export interface ApiDeps {
  db: Db;
  store: ObjectStore;
  /** Hands a received slide to the tiling workers. */
  enqueueTiling?: TilingQueue["enqueueTiling"];
  /** Carries live tumor-board events to the members watching a session. */
  boardChannel?: BoardChannel;
  /** Signs tile tokens for the tile service (apps/tiles). */
  tileTokens?: TileTokenSettings;
  /** The key that signs audit checkpoints (kept outside the database). */
  auditKey?: () => Promise<AuditSigningKey>;
}

export interface ApiContext extends ApiDeps {
  user: SessionUser | undefined;
  /** The lab this request acts for: resolved once, from the `x-pathx-lab` header or the user's first lab. */
  lab: Membership | undefined;
  headers: Headers;
  /** The client's address as far as the hub can trust it (see TRUST_PROXY_HOPS); recorded in the audit. */
  ip: string | null;
}

/** Framework-free: any transport gives plain Headers and the signed-in user's id (or none). */
export async function createContext(deps: ApiDeps, request: { headers: Headers; userId: string | undefined }): Promise<ApiContext> {
  const user = request.userId ? await loadSessionUser(deps.db, request.userId) : undefined;
  const wanted = request.headers.get("x-pathx-lab");
  const lab = user?.memberships.find((m) => m.labSlug === wanted) ?? user?.memberships[0];
  return { ...deps, user, lab, headers: request.headers, ip: requestOriginOf(request.headers).ip };
}

/** An input that failed only because an id is not a UUID: such a resource cannot exist. */
function isMalformedId(cause: unknown): boolean {
  const issues = (cause as { issues?: { code?: string; format?: string }[] } | undefined)?.issues;
  return Array.isArray(issues) && issues.some((i) => i.code === "invalid_format" && i.format === "uuid");
}

const t = initTRPC.context<ApiContext>().create({
  errorFormatter({ shape, error, path }) {
    // Never a stack trace, SQL, its parameters or another tenant's data in a response: an
    // unexpected failure is logged with a request id, and only that id goes to the client.
    if (error.code === "INTERNAL_SERVER_ERROR" && !(error.cause instanceof ApiError)) {
      const requestId = randomUUID();
      console.error(`request ${requestId} (${path ?? "tRPC"}) failed:`, error.cause ?? error);
      return {
        code: shape.code,
        message: `The hub could not do this just now (request ${requestId}). Try again; if it keeps failing, give this request id to your administrator.`,
        data: { code: shape.data.code, httpStatus: shape.data.httpStatus, requestId },
      };
    }
    return { ...shape, data: { code: shape.data.code, httpStatus: shape.data.httpStatus } };
  },
});

const toTrpc = t.middleware(async ({ ctx, next }) => {
  // Audit entries written while serving this call carry the caller's address.
  const result = await runWithRequestOrigin({ ip: ctx.ip }, () => next());
  if (result.ok) return result;
  if (result.error.cause instanceof ApiError) {
    const cause = result.error.cause;
    // The error table's tRPC codes are tRPC's own: this assignment fails to compile otherwise.
    const code: TRPC_ERROR_CODE_KEY = cause.trpcCode;
    throw new TRPCError({ code, message: cause.message, cause });
  }
  // Validated at the edge: a malformed id answers as an unknown one does, never as a failure.
  if (result.error.code === "BAD_REQUEST" && isMalformedId(result.error.cause))
    throw new TRPCError({ code: "NOT_FOUND", message: "Not found: this id is not valid." });
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(toTrpc);

export const signedInProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
  return next({ ctx: { ...ctx, user: ctx.user } });
});

/** A member of a lab acting for it. */
export const labProcedure = signedInProcedure.use(({ ctx, next }) => {
  if (!ctx.lab) throw new TRPCError({ code: "FORBIDDEN", message: "Your account belongs to no lab yet; ask your lab administrator." });
  return next({ ctx: { ...ctx, lab: ctx.lab } });
});

/** Secrets never enter the audit: a first password, a token. */
function redactForAudit(input: unknown): Record<string, unknown> {
  if (!input || typeof input !== "object") return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) out[k] = /password|token|secret|credential/i.test(k) ? "[redacted]" : v;
  return JSON.stringify(out).length > 4000 ? { truncated: true } : out;
}

/** Every administrative act (each lab-admin mutation that succeeded) is audited in the lab's chain. */
export const labAdminProcedure = labProcedure
  .use(({ ctx, next }) => {
    if (ctx.lab.role !== "lab_admin") throw new TRPCError({ code: "FORBIDDEN", message: "Only a lab administrator can do this." });
    return next();
  })
  .use(async ({ ctx, path, type, getRawInput, next }) => {
    const result = await next();
    if (result.ok && type === "mutation") {
      await recordAudit(ctx.db, {
        labId: ctx.lab.labId,
        actorUserId: ctx.user.id,
        action: `admin.${path}`,
        targetType: "lab",
        targetId: ctx.lab.labId,
        detail: redactForAudit(await getRawInput()),
      });
    }
    return result;
  });
