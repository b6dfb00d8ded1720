import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { serverCaller } from "./caller";
import { formOutcomeTarget } from "./form-outcome";

type Api = Awaited<ReturnType<typeof serverCaller>>["api"];

/**
 * Runs a form's mutation, then shows `path` again (or the page the mutation names) with the
 * outcome in the URL: ?message= on success, ?error= with the reason otherwise.
 */
export async function runFormAction(path: string, run: (api: Api) => Promise<string | void>, done: string): Promise<never> {
  const { api } = await serverCaller();
  const target = await formOutcomeTarget(path, () => run(api), done);
  revalidatePath(path);
  redirect(target);
}
