import { TRPCError } from "@trpc/server";

/** What went wrong with a form's mutation, in words the user can act on (input checks say which field). */
export function describeFormFailure(error: unknown): string {
  if (!(error instanceof TRPCError)) return "That did not work; try again.";
  const issues = (error.cause as { issues?: { path: PropertyKey[]; message: string }[] } | undefined)?.issues;
  return issues?.length ? `Check what you entered: ${issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}` : error.message;
}
