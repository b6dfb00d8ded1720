import { and, eq } from "drizzle-orm";
import type { Db } from "./client";
import { cases, slides } from "./schema";

// Every read of a lab's clinical data goes through a lab id: another lab's row is simply not found.

export async function findSlideForLab(db: Db, labId: string, slideId: string) {
  const [row] = await db
    .select()
    .from(slides)
    .where(and(eq(slides.labId, labId), eq(slides.id, slideId)))
    .limit(1);
  return row ?? null;
}

export async function findCaseForLab(db: Db, labId: string, caseId: string) {
  const [row] = await db
    .select()
    .from(cases)
    .where(and(eq(cases.labId, labId), eq(cases.id, caseId)))
    .limit(1);
  return row ?? null;
}
