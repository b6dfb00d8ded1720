import { appRouter, createCallerFactory, createContext } from "@pathx/api";
import { TRPCError } from "@trpc/server";
import { currentUserId } from "@/auth";
import { getDeps } from "@/server/deps";

/** The request as a FHIR R4 Bundle (ServiceRequest + Task + DiagnosticReport), as a download. */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const userId = await currentUserId();
  if (!userId) return new Response("Sign in first.", { status: 401 });
  const api = createCallerFactory(appRouter)(await createContext(await getDeps(), { headers: request.headers, userId }));
  try {
    const bundle = await api.consults.fhir({ id });
    return new Response(JSON.stringify(bundle, null, 2), {
      headers: {
        "content-type": "application/fhir+json",
        "content-disposition": `attachment; filename="second-opinion-${id}.fhir.json"`,
        "cache-control": "no-store",
      },
    });
  } catch (error) {
    if (error instanceof TRPCError && (error.code === "NOT_FOUND" || error.code === "BAD_REQUEST")) return new Response("Not found", { status: 404 });
    throw error;
  }
}
