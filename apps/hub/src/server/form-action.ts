import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { serverCaller } from "./caller";
import { describeFormFailure } from "./form-failure";

type Api = Awaited<ReturnType<typeof serverCaller>>["api"];

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
    target = `${path}?error=${encodeURIComponent(describeFormFailure(error))}`;
  }
  revalidatePath(path);
  redirect(target);
}
