import { z } from "zod";
import { endBoardSession, handOverPresenter, startBoardSession } from "../domain/board-live";
import { addAddendum, addContribution, markAgreedConclusion } from "../domain/board-conclusions";
import { addAgendaCase, getBoardSession } from "../domain/board-sessions";
import { addBoardMember, createBoard, getBoard, listMyBoards, removeBoardMember, scheduleBoardSession } from "../domain/boards";
import { ApiError } from "../errors";
import { type ApiContext, labProcedure, router, signedInProcedure } from "../trpc";

const id = z.string().uuid();
const sessionInput = z.object({ sessionId: id });

/** Board actions that reach the members watching live need the process's board channel. */
function live(ctx: ApiContext) {
  if (!ctx.boardChannel) throw new ApiError("INTERNAL", "Live tumor boards are not available on this server.");
  return { db: ctx.db, channel: ctx.boardChannel };
}

export const boardsRouter = router({
  list: signedInProcedure.query(({ ctx }) => listMyBoards(ctx.db, ctx.user.id)),
  create: signedInProcedure.input(z.object({ name: z.string().max(200) })).mutation(({ ctx, input }) => createBoard(ctx.db, ctx.user, input.name)),
  get: signedInProcedure.input(z.object({ id })).query(({ ctx, input }) => getBoard(ctx.db, ctx.user.id, input.id)),
  addMember: signedInProcedure
    .input(z.object({ boardId: id, email: z.string().max(200) }))
    .mutation(({ ctx, input }) => addBoardMember(ctx.db, ctx.user.id, input.boardId, input.email)),
  removeMember: signedInProcedure
    .input(z.object({ boardId: id, userId: id }))
    .mutation(({ ctx, input }) => removeBoardMember(live(ctx), ctx.user.id, input.boardId, input.userId)),
  schedule: signedInProcedure
    .input(z.object({ boardId: id, scheduledAt: z.coerce.date() }))
    .mutation(({ ctx, input }) => scheduleBoardSession(ctx.db, ctx.user.id, input.boardId, input.scheduledAt)),
  sessions: router({
    get: signedInProcedure.input(z.object({ id })).query(({ ctx, input }) => getBoardSession(ctx.db, ctx.user.id, input.id)),
    addCase: labProcedure
      .input(z.object({ sessionId: id, accessionNumber: z.string().max(100) }))
      .mutation(({ ctx, input }) => addAgendaCase(live(ctx), ctx.user.id, ctx.lab, input.sessionId, input.accessionNumber)),
    start: signedInProcedure.input(sessionInput).mutation(({ ctx, input }) => startBoardSession(live(ctx), ctx.user.id, input.sessionId)),
    end: signedInProcedure.input(sessionInput).mutation(({ ctx, input }) => endBoardSession(live(ctx), ctx.user.id, input.sessionId)),
    handOver: signedInProcedure
      .input(z.object({ sessionId: id, userId: id }))
      .mutation(({ ctx, input }) => handOverPresenter(live(ctx), ctx.user.id, input.sessionId, input.userId)),
    /** A member's contribution to the conclusion on a case (kept with its author and time). */
    conclude: signedInProcedure
      .input(z.object({ sessionId: id, itemId: id, conclusion: z.string().max(10_000) }))
      .mutation(({ ctx, input }) => addContribution(live(ctx), ctx.user.id, input.sessionId, input.itemId, input.conclusion)),
    agree: signedInProcedure
      .input(z.object({ sessionId: id, itemId: id, contributionId: id }))
      .mutation(({ ctx, input }) => markAgreedConclusion(live(ctx), ctx.user.id, input.sessionId, input.itemId, input.contributionId)),
    addendum: signedInProcedure
      .input(z.object({ sessionId: id, itemId: id, text: z.string().max(10_000) }))
      .mutation(({ ctx, input }) => addAddendum(live(ctx), ctx.user.id, input.sessionId, input.itemId, input.text)),
  }),
});
