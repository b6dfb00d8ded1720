"use client";

import { type Dispatch, useEffect, useEffectEvent } from "react";
import type { BoardStreamMessage } from "../types";
import type { BoardAction } from "./board-state";

/**
 * One live connection per page while the session is not over: each message goes to the reducer
 * (and to `onMessage`, for what the page does beyond its state). The browser reconnects by itself
 * unless the hub refused the connection.
 */
export function useBoardStream(openStream: (() => EventSource) | null, dispatch: Dispatch<BoardAction>, onMessage: (message: BoardStreamMessage) => void) {
  const receive = useEffectEvent((message: BoardStreamMessage) => {
    dispatch({ type: "message", message, receivedAt: Date.now() });
    onMessage(message);
  });
  useEffect(() => {
    if (!openStream) return;
    const source = openStream();
    source.onopen = () => dispatch({ type: "connection-opened" });
    source.onerror = () => dispatch({ type: "connection-failed", refused: source.readyState === EventSource.CLOSED });
    source.onmessage = (message) => receive(JSON.parse(message.data as string) as BoardStreamMessage);
    return () => source.close();
  }, [openStream, dispatch]);
}
