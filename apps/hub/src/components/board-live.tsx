"use client";

import { useRouter } from "next/navigation";
import { useMemo } from "react";
import { type BoardClient, BoardLive as LiveBoard, type BoardLiveProps } from "@pathx/viewer";
import { api, issueTileToken } from "./trpc-client";

export type { BoardSlide } from "@pathx/viewer";

/** The board session's routes on this hub, as the live board (@pathx/viewer) uses them. */
function createBoardClient(sessionId: string): BoardClient {
  const base = `/api/boards/sessions/${sessionId}`;
  return {
    issueTileToken,
    openStream: () => new EventSource(`${base}/live`),
    async share(message) {
      const response = await fetch(`${base}/view`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(message) }).catch(
        () => undefined,
      );
      if (!response) return "The hub could not be reached; your view is not being shared.";
      // 409: the view is not this member's to share any more (hand-over); 403: no longer a member. The live stream tells them.
      if (response.ok || response.status === 409 || response.status === 403) return null;
      return ((await response.json().catch(() => ({}))) as { error?: string }).error ?? `Sharing the view failed (HTTP ${response.status}).`;
    },
    async saveSnapshot(itemId, image) {
      const response = await fetch(`${base}/snapshots/${itemId}`, { method: "POST", headers: { "content-type": "image/jpeg" }, body: image }).catch(
        () => undefined,
      );
      const body = ((await response?.json().catch(() => ({}))) ?? {}) as { number?: number; error?: string };
      return response?.ok ? { number: body.number ?? 0 } : { error: body.error ?? "The snapshot could not be saved; try again." };
    },
    handOver: (userId) => api.boards.sessions.handOver.mutate({ sessionId, userId }),
  };
}

/** The live board of a session page, talking to this hub. */
export function BoardLive({ sessionId, ...props }: { sessionId: string } & Omit<BoardLiveProps, "client" | "onRefresh">) {
  const router = useRouter();
  const client = useMemo(() => createBoardClient(sessionId), [sessionId]);
  return <LiveBoard {...props} client={client} onRefresh={() => router.refresh()} />;
}
