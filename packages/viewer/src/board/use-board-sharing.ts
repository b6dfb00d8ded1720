"use client";

import { type RefObject, useEffect, useEffectEvent, useRef } from "react";
import type { BoardView } from "../types";
import type { BoardClient } from "./board-client";
import type { BoardPointer, Notice } from "./board-state";
import { type LatestOnly, latestOnly } from "./latest-only";

/** The presenter sends at most this often (about 20 updates a second). */
export const SEND_INTERVAL_MS = 50;

export interface BoardSenders {
  view: LatestOnly<BoardView>;
  pointer: LatestOnly<BoardPointer>;
}

/** The presenter's outgoing view and pointer, newest only; a failure becomes a notice. */
export function useBoardSharing(share: BoardClient["share"], onNotice: (notice: Notice) => void): RefObject<BoardSenders | null> {
  const senders = useRef<BoardSenders | null>(null);
  const send = useEffectEvent(async (message: Parameters<BoardClient["share"]>[0]) => {
    const failure = await share(message);
    if (failure) onNotice({ text: failure, error: true });
  });
  useEffect(() => {
    const view = latestOnly<BoardView>(SEND_INTERVAL_MS, (v) => send({ kind: "view", ...v, sentAt: Date.now() }));
    const pointer = latestOnly<BoardPointer>(SEND_INTERVAL_MS, (p) => send({ kind: "pointer", ...p, sentAt: Date.now() }));
    senders.current = { view, pointer };
    return () => {
      view.stop();
      pointer.stop();
      senders.current = null;
    };
  }, []);
  return senders;
}
