import { eq } from "drizzle-orm";
import { z } from "zod";
import { schema } from "@pathx/db";
import { boardsRouter } from "./boards";
import { addLabMember, listLabMembers, setLabMemberRole } from "../domain/members";
import { requestSlideFetch } from "../domain/indexed-slides";
import { createEnrollmentToken, listLabNodes, revokeNode } from "../domain/nodes";
import { getLabCase, getLabSlide, listLabSlides } from "../domain/slides";
import { completeUpload, startUpload, uploadStartInput } from "../domain/uploads";
import { ApiError } from "../errors";
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
    get: labProcedure.input(z.object({ id })).query(({ ctx, input }) => getLabSlide(ctx.db, ctx.lab.labId, input.id)),
    requestFetch: labProcedure.input(z.object({ id })).mutation(({ ctx, input }) => requestSlideFetch(ctx.db, ctx.lab.labId, input.id, ctx.user.id)),
  }),
  members: router({
    list: labAdminProcedure.query(({ ctx }) => listLabMembers(ctx.db, ctx.lab.labId)),
    add: labAdminProcedure
      .input(z.object({ email: z.string().email().max(200), name: z.string().max(200), role, password: z.string().max(200).optional() }))
      .mutation(({ ctx, input }) => addLabMember(ctx.db, ctx.lab.labId, input)),
    setRole: labAdminProcedure.input(z.object({ userId: id, role })).mutation(({ ctx, input }) => setLabMemberRole(ctx.db, ctx.lab.labId, input.userId, input.role)),
  }),
  lab: router({
    policy: labProcedure.query(async ({ ctx }) => {
      const [lab] = await ctx.db.select({ shareLabelMacro: schema.labs.shareLabelMacro }).from(schema.labs).where(eq(schema.labs.id, ctx.lab.labId));
      return { shareLabelMacro: lab?.shareLabelMacro ?? false };
    }),
    setShareLabelMacro: labAdminProcedure
      .input(z.object({ share: z.boolean() }))
      .mutation(({ ctx, input }) => ctx.db.update(schema.labs).set({ shareLabelMacro: input.share }).where(eq(schema.labs.id, ctx.lab.labId)).then(() => undefined)),
  }),
  nodes: router({
    list: labAdminProcedure.query(({ ctx }) => listLabNodes(ctx.db, ctx.lab.labId)),
    createEnrollmentToken: labAdminProcedure.mutation(({ ctx }) => createEnrollmentToken(ctx.db, ctx.lab.labId, ctx.user.id)),
    revoke: labAdminProcedure.input(z.object({ nodeId: id })).mutation(({ ctx, input }) => revokeNode(ctx.db, ctx.lab.labId, input.nodeId)),
  }),
  uploads: router({
    start: labProcedure
      .input(uploadStartInput)
      .mutation(({ ctx, input }) => startUpload(ctx.db, ctx.lab.labId, ctx.user.id, input)),
    complete: labProcedure.input(z.object({ uploadId: id })).mutation(({ ctx, input }) => {
      const enqueue = ctx.enqueueTiling;
      if (!enqueue) throw new ApiError("INTERNAL", "Tiling is not available on this server.");
      return completeUpload(ctx.db, ctx.store, enqueue, ctx.lab.labId, input.uploadId);
    }),
  }),
  cases: router({
    get: labProcedure.input(z.object({ id })).query(({ ctx, input }) => getLabCase(ctx.db, ctx.lab.labId, input.id)),
  }),
  boards: boardsRouter,
});

export type AppRouter = typeof appRouter;
