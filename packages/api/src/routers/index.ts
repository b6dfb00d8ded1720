import { z } from "zod";
import { getLabCase, getLabSlide, listLabSlides } from "../domain/slides";
import { labProcedure, router, signedInProcedure } from "../trpc";

const id = z.string().uuid();

export const appRouter = router({
  me: signedInProcedure.query(({ ctx }) => ({
    name: ctx.user.name,
    email: ctx.user.email,
    lab: ctx.lab ?? null,
    labs: ctx.user.memberships,
  })),
  slides: router({
    list: labProcedure.input(z.object({ search: z.string().max(100).optional() })).query(({ ctx, input }) => listLabSlides(ctx.db, ctx.lab.labId, input.search)),
    get: labProcedure.input(z.object({ id })).query(({ ctx, input }) => getLabSlide(ctx.db, ctx.lab.labId, input.id)),
  }),
  cases: router({
    get: labProcedure.input(z.object({ id })).query(({ ctx, input }) => getLabCase(ctx.db, ctx.lab.labId, input.id)),
  }),
});

export type AppRouter = typeof appRouter;
