import { type ApiDeps, appRouter, createCallerFactory, createContext } from "@pathx/api";
import { publicUrl } from "./public-url";
import { inboxTarget } from "./redirects";

/** Opening an inbox entry marks it read and goes where it points (only the user's own entries). */
export async function openInboxEntry(request: Request, id: string, userId: string | undefined, openDeps: () => Promise<ApiDeps>): Promise<Response> {
  if (!userId) return Response.redirect(publicUrl("/sign-in?next=/inbox", request), 303);
  const api = createCallerFactory(appRouter)(await createContext(await openDeps(), { headers: request.headers, userId }));
  const entry = /^[0-9a-f-]{36}$/.test(id) ? (await api.inbox.list()).find((e) => e.id === id) : undefined;
  if (!entry) return Response.redirect(publicUrl("/inbox", request), 303);
  await api.inbox.markRead({ ids: [id] });
  // Links are hub paths written by the hub itself; anything else goes to the inbox.
  return Response.redirect(publicUrl(inboxTarget(entry.link), request), 303);
}
