import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter, createContext } from "@pathx/api";
import { currentUserId } from "@/auth";
import { getDeps } from "@/server/deps";

// The Next adapter: plain Headers and the session's user id go into the framework-free core.
const handler = async (request: Request) =>
  fetchRequestHandler({
    endpoint: "/api/trpc",
    req: request,
    router: appRouter,
    createContext: async () => createContext(await getDeps(), { headers: request.headers, userId: await currentUserId() }),
  });

export { handler as GET, handler as POST };
