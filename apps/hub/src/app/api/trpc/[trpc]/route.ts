import { handleTrpcRequest } from "@pathx/api";
import { currentUserId } from "@/auth";
import { hubEnv } from "@/env";
import { guardApiRoute } from "@/server/api-guard";
import { getDeps } from "@/server/deps";

// The Next adapter: cross-site calls are refused and the session's user id is resolved first,
// then the framework-free core reads the bounded body and runs the call.
const handler = (request: Request) =>
  guardApiRoute(request, async () =>
    handleTrpcRequest(request, { endpoint: "/api/trpc", deps: await getDeps(), userId: await currentUserId(), timeoutMs: hubEnv().BODY_TIMEOUT_MS }),
  );

export { handler as GET, handler as POST };
