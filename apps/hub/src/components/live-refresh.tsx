"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { AutoRefresh } from "./auto-refresh";

/**
 * Re-renders the page when an event arrives on one of `topics` (Server-Sent Events from
 * /api/events, from whichever hub process the change happened on). While the stream is not
 * open (refused, proxy trouble, reconnecting) it falls back to polling every two seconds as
 * long as `busy` says something is in progress.
 */
export function LiveRefresh({ topics, busy }: { topics: string[]; busy: boolean }) {
  const router = useRouter();
  const [live, setLive] = useState(false);
  const key = topics.join(",");
  useEffect(() => {
    if (typeof EventSource === "undefined" || !key) return;
    const source = new EventSource(`/api/events?topics=${encodeURIComponent(key)}`);
    let pending: ReturnType<typeof setTimeout> | undefined;
    // Progress comes about once a second per slide: one re-render per burst is enough.
    const refresh = () => {
      pending ??= setTimeout(() => {
        pending = undefined;
        router.refresh();
      }, 300);
    };
    source.onopen = () => setLive(true);
    source.onmessage = refresh;
    source.onerror = () => setLive(source.readyState === EventSource.OPEN);
    return () => {
      source.close();
      clearTimeout(pending);
    };
  }, [key, router]);
  return <AutoRefresh active={busy && !live} />;
}
