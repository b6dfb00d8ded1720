import { eq } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";

/** Whether the lab lets the hub keep the pictures of the glass (label, macro: they show the patient's name). */
export async function labSharesLabelMacro(db: Db, labId: string): Promise<boolean> {
  const [lab] = await db.select({ share: schema.labs.shareLabelMacro }).from(schema.labs).where(eq(schema.labs.id, labId));
  return lab?.share ?? false;
}
