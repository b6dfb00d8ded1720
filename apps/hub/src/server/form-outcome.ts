import { describeFormFailure } from "./form-failure";

/**
 * Where a form goes after its mutation: `path` again (or the page the mutation names) with
 * ?message= on success, ?error= with the reason otherwise.
 */
export async function formOutcomeTarget(path: string, attempt: () => Promise<string | void>, done: string): Promise<string> {
  try {
    const next = await attempt();
    return `${next ?? path}?message=${encodeURIComponent(done)}`;
  } catch (error) {
    return `${path}?error=${encodeURIComponent(describeFormFailure(error))}`;
  }
}
