"use client";

import { useCallback, useReducer, useRef, useState } from "react";
import type OpenSeadragon from "openseadragon";
import { SlideViewer } from "../slide/slide-viewer";
import type { BoardSnapshot, BoardStreamMessage } from "../types";
import type { BoardClient } from "./board-client";
import { type BoardState, createBoardState, isSyncing, reduceBoard, refreshesPage, roleOf } from "./board-state";
import { takeSnapshot } from "./snapshot";
import { useBoardSharing } from "./use-board-sharing";
import { useBoardStream } from "./use-board-stream";
import { useBoardViewer } from "./use-board-viewer";

export interface BoardSlide {
  slideId: string;
  itemId: string;
  label: string;
  mpp: number | null;
  status: string;
}

export interface BoardLiveProps {
  me: string;
  isChair: boolean;
  members: { userId: string; name: string }[];
  slides: BoardSlide[];
  initial: BoardSnapshot;
  client: BoardClient;
  /** Reloads the page's server-rendered data (agenda, members, conclusions). */
  onRefresh: () => void;
}

/**
 * The live part of a board session: the viewer, mirrored from the presenter to every member
 * who follows (server-sent events), the presenter's pointer, break away / rejoin, hand-over
 * by the chair and snapshots by the presenter. Before the session starts and after it ends,
 * members browse the agenda's slides on their own.
 */
export function BoardLive({ me, isChair, members, slides, initial, client, onRefresh }: BoardLiveProps) {
  const [state, dispatch] = useReducer(reduceBoard, null, () => createBoardState(me, initial, slides[0]?.slideId));
  const [viewer, setViewer] = useState<OpenSeadragon.Viewer | null>(null);
  const root = useRef<HTMLElement>(null);
  const live = useRef<OpenSeadragon.Viewer | null>(null);
  const onViewer = useCallback((v: OpenSeadragon.Viewer | null) => {
    live.current = v;
    setViewer(v);
  }, []);

  const senders = useBoardSharing(client.share, (notice) => dispatch({ type: "notice", notice }));
  const onMessage = (message: BoardStreamMessage) => refreshesPage(message, me) && onRefresh();
  // Decided once per page: a session that ends while open keeps its stream (addenda still arrive),
  // even after the refreshed page passes a closed `initial`.
  const [endedBeforeOpening] = useState(initial.status === "closed");
  useBoardStream(endedBeforeOpening ? null : client.openStream, dispatch, onMessage);
  useBoardViewer(viewer, live, root, state, senders);

  const role = roleOf(state);
  const syncing = isSyncing(state);
  const { shown, notice } = state;
  const current = slides.find((s) => s.slideId === shown);

  async function snapshot() {
    const v = live.current;
    if (v && current) dispatch({ type: "notice", notice: await takeSnapshot(v, current, client.saveSnapshot) });
  }

  return (
    <section
      className="board-live"
      ref={root}
      aria-label="Live viewer"
      data-testid="board-live"
      data-role={role}
      data-following={String(syncing)}
      // The last view the presenter sent, for whoever checks what this follower received (tests).
      data-presenter-view={state.receivedView ? JSON.stringify(state.receivedView) : undefined}
    >
      <div className="board-live-bar" role="status" aria-live="polite">
        <BoardStatusLine state={state} />
        {role === "follower" ? (
          state.following ? (
            <button type="button" className="plain" onClick={() => dispatch({ type: "break-away" })}>
              Break away
            </button>
          ) : (
            <button type="button" onClick={() => dispatch({ type: "rejoin" })}>
              Rejoin
            </button>
          )
        ) : null}
        {role === "presenter" ? (
          <button type="button" className="plain" onClick={() => void snapshot()} disabled={!current}>
            Snapshot
          </button>
        ) : null}
        {isChair && state.status === "live" ? (
          <HandOver
            members={members.filter((m) => m.userId !== state.presenter.userId)}
            handOver={client.handOver}
            onError={(text) => dispatch({ type: "notice", notice: { text, error: true } })}
          />
        ) : null}
      </div>
      {notice ? (
        <p className={notice.error ? "error" : "muted"} role={notice.error ? "alert" : "status"} style={{ margin: ".3rem .8rem" }}>
          {notice.text}
        </p>
      ) : null}
      {slides.length > 0 ? (
        // biome-ignore lint/a11y/useSemanticElements: a row of toggle buttons, not form fields; a <fieldset> would change the layout.
        <div className="board-slides" role="group" aria-label="Agenda slides">
          {slides.map((s) => (
            <button
              key={s.slideId}
              type="button"
              className={s.slideId === shown ? "" : "plain"}
              aria-pressed={s.slideId === shown}
              onClick={() => dispatch({ type: "choose-slide", slideId: s.slideId })}
            >
              {s.label}
            </button>
          ))}
        </div>
      ) : null}
      {!shown ? (
        <p className="muted" style={{ padding: "1rem" }}>
          Put a case on the agenda to show its slides here.
        </p>
      ) : current && current.status !== "ready" ? (
        <p className="muted" style={{ padding: "1rem" }}>
          {current.label} is not ready to view yet ({current.status}); its lab publishes it.
        </p>
      ) : (
        <SlideViewer key={shown} slideId={shown} mpp={current?.mpp ?? null} issueTileToken={client.issueTileToken} onViewer={onViewer} />
      )}
    </section>
  );
}

/** What this member is doing in the session, and the connection's trouble if any. */
function BoardStatusLine({ state }: { state: BoardState }) {
  const { connection, status, following, delay } = state;
  const presenterName = state.presenter.name ?? "the presenter";
  return (
    <>
      {connection === "removed" ? (
        <strong>You are no longer a member of this board.</strong>
      ) : status === "closed" ? (
        <span>The session has ended. You can still look at its slides for 24 hours.</span>
      ) : status === "planned" ? (
        <span>Not started: the chair starts the session. Meanwhile, look at the agenda&apos;s slides on your own.</span>
      ) : roleOf(state) === "presenter" ? (
        <span>
          <strong>You present</strong>: every member who follows sees your view and pointer.
        </span>
      ) : following ? (
        <span>
          Following <strong>{presenterName}</strong>
          {delay !== null ? <span className="muted" data-testid="delay">{` · last update ${delay} ms after it was sent`}</span> : null}
        </span>
      ) : (
        <span>
          On your own: <strong>{presenterName}</strong> presents.
        </span>
      )}
      {connection === "lost" && status !== "closed" ? <span className="error"> Connection lost; reconnecting…</span> : null}
      {connection === "closed" && status !== "closed" ? <span className="error"> The live connection was refused; reload the page.</span> : null}
    </>
  );
}

/** The chair's hand-over of the presenter role. */
function HandOver({
  members,
  handOver,
  onError,
}: {
  members: { userId: string; name: string }[];
  handOver: BoardClient["handOver"];
  onError: (text: string) => void;
}) {
  const [handTo, setHandTo] = useState("");
  async function submit() {
    if (!handTo) return;
    try {
      await handOver(handTo);
      setHandTo("");
    } catch (error) {
      onError(error instanceof Error ? error.message : "The presenter role could not be handed over.");
    }
  }
  return (
    <span className="inline-form">
      <select aria-label="Hand the presenter role to" value={handTo} onChange={(e) => setHandTo(e.target.value)}>
        <option value="">Hand over to…</option>
        {members.map((m) => (
          <option key={m.userId} value={m.userId}>
            {m.name}
          </option>
        ))}
      </select>
      <button type="button" className="plain" onClick={() => void submit()} disabled={!handTo}>
        Hand over
      </button>
    </span>
  );
}
