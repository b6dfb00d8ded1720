import { z } from "zod";
import { exportConsultFhir } from "../domain/consult-fhir";
import {
  acceptConsult,
  closeConsult,
  consultDraftInput,
  consultReportInput,
  createConsultDraft,
  declineConsult,
  getConsult,
  listCaseConsults,
  listConsultTargets,
  listConsults,
  reportConsult,
  sendConsult,
  withdrawConsult,
} from "../domain/consults";
import { labProcedure, router, signedInProcedure } from "../trpc";

const byId = z.object({ id: z.string().uuid() });

/** Second opinions: every procedure works out the caller's part in the request itself (requester lab, addressee, consultant). */
export const consultsRouter = router({
  list: signedInProcedure.query(({ ctx }) => listConsults(ctx.db, ctx.user)),
  get: signedInProcedure.input(byId).query(({ ctx, input }) => getConsult(ctx.db, ctx.user, input.id)),
  forCase: labProcedure.input(z.object({ caseId: z.string().uuid() })).query(({ ctx, input }) => listCaseConsults(ctx.db, ctx.user, ctx.lab, input.caseId)),
  targets: labProcedure.query(({ ctx }) => listConsultTargets(ctx.db, ctx.lab)),
  create: labProcedure.input(consultDraftInput).mutation(({ ctx, input }) => createConsultDraft(ctx.db, ctx.user, ctx.lab, input)),
  send: signedInProcedure.input(byId).mutation(({ ctx, input }) => sendConsult(ctx.db, ctx.user, input.id)),
  withdraw: signedInProcedure.input(byId).mutation(({ ctx, input }) => withdrawConsult(ctx.db, ctx.user, input.id)),
  accept: signedInProcedure.input(byId).mutation(({ ctx, input }) => acceptConsult(ctx.db, ctx.user, input.id)),
  decline: signedInProcedure
    .input(byId.extend({ reason: z.string().max(2000) }))
    .mutation(({ ctx, input }) => declineConsult(ctx.db, ctx.user, input.id, input.reason)),
  report: signedInProcedure
    .input(byId.extend({ report: consultReportInput }))
    .mutation(({ ctx, input }) => reportConsult(ctx.db, ctx.user, input.id, input.report)),
  close: signedInProcedure.input(byId).mutation(({ ctx, input }) => closeConsult(ctx.db, ctx.user, input.id)),
  fhir: signedInProcedure.input(byId).query(({ ctx, input }) => exportConsultFhir(ctx.db, ctx.user, input.id)),
});
