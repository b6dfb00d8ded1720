import { ApiError, startUpload, uploadStartInput } from "@pathx/api";
import { handleNodeRequest } from "@/server/node-api";

export const POST = (request: Request) =>
  handleNodeRequest(request, async (node, { db }) => {
    const parsed = uploadStartInput.safeParse(await request.json().catch(() => undefined));
    if (!parsed.success) throw new ApiError("BAD_REQUEST", `Invalid upload request: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    return startUpload(db, node.labId, null, parsed.data, node.id);
  });
