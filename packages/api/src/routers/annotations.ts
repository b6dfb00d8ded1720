import { z } from "zod";
import { annotationCreateInput, createAnnotation, deleteAnnotation, listAnnotations } from "../domain/annotations";
import { router, signedInProcedure } from "../trpc";

// Signed in is enough here: someone viewing another lab's slide through a grant is no member of
// that lab, so the domain decides per slide with resolveSlideAccess.
export const annotationsRouter = router({
  list: signedInProcedure.input(z.object({ slideId: z.string().uuid() })).query(({ ctx, input }) => listAnnotations(ctx.db, ctx.user, input.slideId)),
  create: signedInProcedure.input(annotationCreateInput).mutation(({ ctx, input }) => createAnnotation(ctx.db, ctx.user, ctx.lab?.labId, input)),
  remove: signedInProcedure.input(z.object({ id: z.string().uuid() })).mutation(({ ctx, input }) => deleteAnnotation(ctx.db, ctx.user, input.id)),
});
