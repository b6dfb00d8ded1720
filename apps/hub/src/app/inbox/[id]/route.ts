import { currentUserId } from "@/auth";
import { getDeps } from "@/server/deps";
import { openInboxEntry } from "@/server/inbox-open";

/** Opening an inbox entry marks it read and goes where it points (only the user's own entries). */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return openInboxEntry(request, id, await currentUserId(), getDeps);
}
