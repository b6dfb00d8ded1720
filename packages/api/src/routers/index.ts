import { eq } from "drizzle-orm";
import { z } from "zod";
import { schema } from "@pathx/db";
import {
  addLabMember,
  answerInvitation,
  listLabMembers,
  listMyInvitations,
  removeLabMember,
  setLabMemberRole,
  setMemberSubspecialties,
  signOutMemberEverywhere,
} from "../domain/members";
import { endUserSessions } from "../domain/sessions";
import { annotationsRouter } from "./annotations";
import { boardsRouter } from "./boards";
import { requestSlideFetch } from "../domain/indexed-slides";
import { createEnrollmentToken, listLabNodes, revokeNode } from "../domain/nodes";
import { resolveSlideAccess } from "../access/slide-access";
import { listRemoteViews } from "../domain/audit";
import { readAuditChainState } from "../domain/audit-chain";
import { countUnread, listInbox, markRead } from "../domain/notifications";
import { listPriorLookups, listPriors, openPrior, openPriorInput, setCaseStatus } from "../domain/priors";
import { getLabCase, getViewableSlide, listLabSlides } from "../domain/slides";
import { consultsRouter } from "./consults";
import { issueTileToken } from "../domain/tile-tokens";
import { browserUploadStartInput, completeUpload, startUpload } from "../domain/uploads";
import { ApiError, notFound } from "../errors";
import { labAdminProcedure, labProcedure, router, signedInProcedure } from "../trpc";

const id = z.string().uuid();
const role = z.enum(["pathologist", "lab_admin"]);

export const appRouter = router({
  me: signedInProcedure.query(({ ctx }) => ({
    name: ctx.user.name,
    email: ctx.user.email,
    lab: ctx.lab ?? null,
    labs: ctx.user.memberships,
  })),
  slides: router({
    list: labProcedure
      .input(z.object({ search: z.string().max(100).optional(), nodeId: id.optional() }))
      .query(({ ctx, input }) => listLabSlides(ctx.db, ctx.lab.labId, input.search, input.nodeId)),
    get: signedInProcedure.input(z.object({ id })).query(({ ctx, input }) => getViewableSlide(ctx.db, ctx.user, ctx.lab, input.id)),
    /** The viewer's access to the tile service: asked when a viewer opens, and again before the token runs out. */
    tileToken: signedInProcedure.input(z.object({ id })).mutation(({ ctx, input }) => {
      if (!ctx.tileTokens) throw new ApiError("INTERNAL", "The tile service is not configured on this hub (TILE_TOKEN_SECRET); tell the hub's operator.");
      return issueTileToken(ctx.db, ctx.tileTokens, ctx.user, ctx.lab, input.id);
    }),
    requestFetch: signedInProcedure.input(z.object({ id })).mutation(async ({ ctx, input }) => {
      // Whoever may view an index-only slide (its lab, a consultant, a board member) may have it fetched.
      const access = await resolveSlideAccess(ctx.db, ctx.user, input.id);
      if (!access) throw notFound("Slide");
      return requestSlideFetch(ctx.db, access.slide.labId, input.id, ctx.user.id, access.via);
    }),
  }),
  members: router({
    list: labAdminProcedure.query(({ ctx }) => listLabMembers(ctx.db, ctx.lab.labId)),
    // The acting lab is an input, checked against the caller's admin memberships.
    add: signedInProcedure
      .input(z.object({ labId: id, email: z.string().email().max(200), name: z.string().max(200), role, password: z.string().max(200).optional() }))
      .mutation(({ ctx, input }) => addLabMember(ctx.db, ctx.user, input)),
    setRole: labAdminProcedure
      .input(z.object({ userId: id, role }))
      .mutation(({ ctx, input }) => setLabMemberRole(ctx.db, ctx.lab.labId, input.userId, input.role)),
    setSubspecialties: labAdminProcedure
      .input(z.object({ userId: id, subspecialties: z.array(z.string().trim().toLowerCase().min(2).max(80)).max(10) }))
      .mutation(({ ctx, input }) => setMemberSubspecialties(ctx.db, ctx.lab.labId, input.userId, input.subspecialties)),
    remove: labAdminProcedure.input(z.object({ userId: id })).mutation(({ ctx, input }) => removeLabMember(ctx.db, ctx.lab.labId, input.userId)),
    signOutEverywhere: labAdminProcedure
      .input(z.object({ userId: id }))
      .mutation(({ ctx, input }) => signOutMemberEverywhere(ctx.db, ctx.lab.labId, input.userId)),
  }),
  sessions: router({
    /** Ends every session of the caller, this one included. */
    signOutEverywhere: signedInProcedure.mutation(async ({ ctx }) => ({ ended: await endUserSessions(ctx.db, ctx.user.id, "signed-out-everywhere") })),
  }),
  lab: router({
    policy: labProcedure.query(async ({ ctx }) => {
      const [lab] = await ctx.db.select({ shareLabelMacro: schema.labs.shareLabelMacro }).from(schema.labs).where(eq(schema.labs.id, ctx.lab.labId));
      return { shareLabelMacro: lab?.shareLabelMacro ?? false };
    }),
    setShareLabelMacro: labAdminProcedure.input(z.object({ share: z.boolean() })).mutation(({ ctx, input }) =>
      ctx.db
        .update(schema.labs)
        .set({ shareLabelMacro: input.share })
        .where(eq(schema.labs.id, ctx.lab.labId))
        .then(() => undefined),
    ),
  }),
  nodes: router({
    list: labAdminProcedure.query(({ ctx }) => listLabNodes(ctx.db, ctx.lab.labId)),
    createEnrollmentToken: labAdminProcedure.mutation(({ ctx }) => createEnrollmentToken(ctx.db, ctx.lab.labId, ctx.user.id)),
    revoke: labAdminProcedure.input(z.object({ nodeId: id })).mutation(({ ctx, input }) => revokeNode(ctx.db, ctx.lab.labId, input.nodeId)),
  }),
  uploads: router({
    start: labProcedure.input(browserUploadStartInput).mutation(({ ctx, input }) => startUpload(ctx.db, ctx.lab.labId, ctx.user.id, input)),
    complete: labProcedure.input(z.object({ uploadId: id })).mutation(({ ctx, input }) => {
      const enqueue = ctx.enqueueTiling;
      if (!enqueue) throw new ApiError("INTERNAL", "Tiling is not available on this server.");
      return completeUpload(ctx.db, ctx.store, enqueue, ctx.lab.labId, input.uploadId);
    }),
  }),
  annotations: annotationsRouter,
  cases: router({
    get: labProcedure.input(z.object({ id })).query(({ ctx, input }) => getLabCase(ctx.db, ctx.lab.labId, input.id)),
    setStatus: labProcedure
      .input(z.object({ id, status: z.enum(["open", "signed_out"]) }))
      .mutation(({ ctx, input }) => setCaseStatus(ctx.db, ctx.lab, input.id, input.status)),
    priors: labProcedure.input(z.object({ id })).query(({ ctx, input }) => listPriors(ctx.db, ctx.user, ctx.lab, input.id)),
    openPrior: labProcedure.input(openPriorInput).mutation(({ ctx, input }) => openPrior(ctx.db, ctx.user, ctx.lab, input)),
  }),
  consults: consultsRouter,
  invitations: router({
    list: signedInProcedure.query(({ ctx }) => listMyInvitations(ctx.db, ctx.user.id)),
    accept: signedInProcedure.input(z.object({ id })).mutation(({ ctx, input }) => answerInvitation(ctx.db, ctx.user.id, input.id, true)),
    decline: signedInProcedure.input(z.object({ id })).mutation(({ ctx, input }) => answerInvitation(ctx.db, ctx.user.id, input.id, false)),
  }),
  inbox: router({
    list: signedInProcedure.query(({ ctx }) => listInbox(ctx.db, ctx.user.id)),
    unread: signedInProcedure.query(({ ctx }) => countUnread(ctx.db, ctx.user.id)),
    markRead: signedInProcedure
      .input(z.object({ ids: z.array(id).max(200).optional(), link: z.string().startsWith("/").max(300).optional() }))
      .mutation(({ ctx, input }) => markRead(ctx.db, ctx.user.id, input)),
  }),
  audit: router({
    remoteViews: labAdminProcedure.query(({ ctx }) => listRemoteViews(ctx.db, ctx.lab.labId)),
    chain: labAdminProcedure.query(async ({ ctx }) => {
      if (!ctx.auditKey) throw new ApiError("INTERNAL", "The audit signing key is not configured on this server.");
      return readAuditChainState(ctx.db, await ctx.auditKey(), ctx.lab.labId);
    }),
    priorLookups: labAdminProcedure.query(({ ctx }) => listPriorLookups(ctx.db, ctx.lab.labId)),
  }),
  boards: boardsRouter,
});

export type AppRouter = typeof appRouter;
