import { TRPCError } from "@trpc/server";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { serverCaller } from "./caller";

type Api = Awaited<ReturnType<typeof serverCaller>>["api"];

/** What went wrong, in words the user can act on (input checks say which field). */
function describe(error: unknown): string {
  if (!(error instanceof TRPCError)) return "That did not work; try again.";
  const issues = (error.cause as { issues?: { path: PropertyKey[]; message: string }[] } | undefined)?.issues;
  return issues?.length ? `Check what you entered: ${issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}` : error.message;
}

/**
 * Runs a form's mutation, then shows `path` again (or the page the mutation names) with the
 * outcome in the URL: ?message= on success, ?error= with the reason otherwise.
 */
export async function runFormAction(path: string, run: (api: Api) => Promise<string | void>, done: string): Promise<never> {
  const { api } = await serverCaller();
  let target: string;
  try {
    const next = await run(api);
    target = `${next ?? path}?message=${encodeURIComponent(done)}`;
  } catch (error) {
    target = `${path}?error=${encodeURIComponent(describe(error))}`;
  }
  revalidatePath(path);
  redirect(target);
}
