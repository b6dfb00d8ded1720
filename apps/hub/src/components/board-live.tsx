"use client";

import { createTRPCClient, httpLink } from "@trpc/client";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useRef, useState } from "react";
import type OpenSeadragon from "openseadragon";
import type { AppRouter, BoardEvent, BoardView } from "@pathx/api";
import { SlideViewer } from "./slide-viewer";

const api = createTRPCClient<AppRouter>({ links: [httpLink({ url: "/api/trpc" })] });

/** The presenter sends at most this often (about 20 updates a second). */
const SEND_INTERVAL_MS = 50;

type Status = "planned" | "live" | "closed";
type StateEvent = { type: "state"; status: Status; presenterUserId: string | null; presenterName: string | null; view: BoardView | null };
export interface BoardSlide {
  slideId: string;
  itemId: string;
  label: string;
  mpp: number | null;
  status: string;
}

/**
 * Sends only the newest value, one request at a time and at most every `intervalMs`: a slow
 * request never queues stale views behind it, and views arrive in order.
 */
function latestOnly<T>(intervalMs: number, send: (value: T) => Promise<void>) {
  let pending: { value: T } | undefined;
  let busy = false;
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pump = () => {
    if (busy || !pending) return;
    const wait = last + intervalMs - performance.now();
    if (wait > 0) {
      timer ??= setTimeout(() => {
        timer = undefined;
        pump();
      }, wait);
      return;
    }
    const { value } = pending;
    pending = undefined;
    busy = true;
    last = performance.now();
    void send(value).finally(() => {
      busy = false;
      pump();
    });
  };
  return {
    push(value: T) {
      pending = { value };
      pump();
    },
    stop() {
      clearTimeout(timer);
      pending = undefined;
    },
  };
}

function readView(v: OpenSeadragon.Viewer, slideId: string): BoardView {
  const centre = v.viewport.viewportToImageCoordinates(v.viewport.getCenter(false));
  return { slideId, centre: [Math.round(centre.x * 100) / 100, Math.round(centre.y * 100) / 100], zoom: v.viewport.getZoom(false), rotation: v.viewport.getRotation() };
}

function applyView(v: OpenSeadragon.Viewer, view: BoardView) {
  v.viewport.setRotation(view.rotation, true);
  v.viewport.zoomTo(view.zoom, undefined, true);
  v.viewport.panTo(v.viewport.imageToViewportCoordinates(view.centre[0], view.centre[1]), true);
}

/**
 * The live part of a board session: the viewer, mirrored from the presenter to every member
 * who follows (server-sent events), the presenter's pointer, break away / rejoin, hand-over
 * by the chair and snapshots by the presenter. Before the session starts and after it ends,
 * members browse the agenda's slides on their own.
 */
export function BoardLive({ sessionId, me, isChair, members, slides, initial }: { sessionId: string; me: string; isChair: boolean; members: { userId: string; name: string }[]; slides: BoardSlide[]; initial: Omit<StateEvent, "type"> }) {
  const router = useRouter();
  const [status, setStatus] = useState<Status>(initial.status);
  const [presenter, setPresenter] = useState({ userId: initial.presenterUserId, name: initial.presenterName });
  const [shown, setShown] = useState<string | undefined>(initial.view?.slideId ?? slides[0]?.slideId);
  const [following, setFollowing] = useState(true);
  const [viewer, setViewer] = useState<OpenSeadragon.Viewer | null>(null);
  const [delay, setDelay] = useState<number | null>(null);
  const [connection, setConnection] = useState<"connecting" | "open" | "lost" | "closed" | "removed">("connecting");
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | null>(null);
  const [handTo, setHandTo] = useState("");
  const root = useRef<HTMLDivElement>(null);
  // The open viewer, set and cleared synchronously by SlideViewer (before it destroys one):
  // state lags a render behind, and a destroyed viewer throws when touched.
  const live = useRef<OpenSeadragon.Viewer | null>(null);
  const marker = useRef<HTMLDivElement | null>(null);
  const latestView = useRef<BoardView | null>(initial.view);
  const latestPointer = useRef<{ slideId: string; at: [number, number] | null } | null>(null);

  const presenting = status === "live" && presenter.userId === me;
  const role = status !== "live" ? "browsing" : presenting ? "presenter" : "follower";
  const syncing = role === "follower" && following;
  // Event handlers and viewer callbacks read the current values, not those of their first render.
  const now = useRef({ role, syncing, shown });
  now.current = { role, syncing, shown };

  const placePointer = useCallback(() => {
    const v = live.current;
    const p = latestPointer.current;
    const el = marker.current;
    if (!v || !el || !v.isOpen()) return;
    // OpenSeadragon sets the overlay's display on each draw: hiding goes through an attribute.
    if (now.current.role !== "follower" || !p?.at || p.slideId !== now.current.shown) {
      el.dataset.hidden = "";
      return;
    }
    delete el.dataset.hidden;
    v.updateOverlay(el, v.viewport.imageToViewportCoordinates(p.at[0], p.at[1]));
  }, []);

  const follow = useCallback(
    (view: BoardView | null) => {
      if (!view) return;
      // Another slide: the viewer reopens and applies the view once it has opened.
      if (view.slideId !== now.current.shown) return setShown(view.slideId);
      const v = live.current;
      if (v?.isOpen()) applyView(v, view);
    },
    [],
  );

  const senders = useRef<{ view: ReturnType<typeof latestOnly<BoardView>>; pointer: ReturnType<typeof latestOnly<{ slideId: string; at: [number, number] | null }>> } | null>(null);
  useEffect(() => {
    const post = async (body: object) => {
      const response = await fetch(`/api/boards/sessions/${sessionId}/view`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...body, sentAt: Date.now() }) }).catch(() => undefined);
      if (!response) setNotice({ text: "The hub could not be reached; your view is not being shared.", error: true });
      else if (!response.ok && response.status !== 409 && response.status !== 403) {
        setNotice({ text: ((await response.json().catch(() => ({}))) as { error?: string }).error ?? `Sharing the view failed (HTTP ${response.status}).`, error: true });
      }
    };
    const view = latestOnly<BoardView>(SEND_INTERVAL_MS, (v) => post({ kind: "view", ...v }));
    const pointer = latestOnly<{ slideId: string; at: [number, number] | null }>(SEND_INTERVAL_MS, (p) => post({ kind: "pointer", ...p }));
    senders.current = { view, pointer };
    return () => {
      view.stop();
      pointer.stop();
    };
  }, [sessionId]);

  // The live connection: the current state first, then each event.
  const onEvent = useRef<(event: BoardEvent | StateEvent) => void>(() => {});
  onEvent.current = (event) => {
    switch (event.type) {
      case "state":
        setStatus(event.status);
        setPresenter({ userId: event.presenterUserId, name: event.presenterName });
        latestView.current = event.view;
        // The presenter, too, resumes from the last shared view (after a reload or a hand-over).
        if (event.status === "live" && (following || event.presenterUserId === me)) follow(event.view);
        break;
      case "view":
        latestView.current = event.view;
        // The last view the presenter sent, for whoever checks what this follower received (tests).
        if (root.current) root.current.dataset.presenterView = JSON.stringify(event.view);
        if (now.current.role === "follower") setDelay(Date.now() - event.sentAt);
        if (now.current.syncing) follow(event.view);
        break;
      case "pointer":
        latestPointer.current = event;
        placePointer();
        break;
      case "presenter":
        setPresenter({ userId: event.presenterUserId, name: event.presenterName });
        if (event.presenterUserId !== me && now.current.role === "presenter") {
          setFollowing(true);
          follow(latestView.current);
        }
        break;
      case "status":
        setStatus(event.status);
        setPresenter({ userId: event.presenterUserId, name: event.presenterName });
        setFollowing(true);
        router.refresh();
        break;
      case "agenda":
        router.refresh();
        break;
      case "member-removed":
        if (event.userId !== me) router.refresh();
        else {
          setConnection("removed");
          setStatus("closed");
        }
        break;
    }
  };
  useEffect(() => {
    if (initial.status === "closed") return;
    const source = new EventSource(`/api/boards/sessions/${sessionId}/live`);
    source.onopen = () => setConnection("open");
    // The browser reconnects by itself unless the hub refused the connection (closed).
    source.onerror = () => setConnection((c) => (c === "removed" ? c : source.readyState === EventSource.CLOSED ? "closed" : "lost"));
    source.onmessage = (message) => onEvent.current(JSON.parse(message.data as string) as BoardEvent | StateEvent);
    return () => source.close();
    // One connection per page: its handler reads the current state through onEvent.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [sessionId]);
  // Per opened viewer: the pointer marker, the presenter's outgoing view, the page's data-view.
  useEffect(() => {
    if (!viewer || live.current !== viewer) return;
    const element = viewer.element;
    const el = document.createElement("div");
    el.className = "board-pointer";
    el.setAttribute("aria-label", "Presenter's pointer");
    el.dataset.hidden = "";
    marker.current = el;
    const slideId = now.current.shown!;
    let lastPushed = "";
    // viewport-change fires every animation frame; the view read is the animation's target, so
    // only real changes go out.
    const publish = () => {
      const view = readView(viewer, slideId);
      const json = JSON.stringify(view);
      if (root.current) root.current.dataset.view = json;
      if (now.current.role === "presenter" && json !== lastPushed) {
        lastPushed = json;
        senders.current?.view.push(view);
      }
    };
    const opened = () => {
      viewer.addOverlay(el, viewer.viewport.getCenter());
      const view = latestView.current;
      if (view?.slideId === slideId && (now.current.syncing || now.current.role === "presenter")) applyView(viewer, view);
      placePointer();
      publish();
    };
    viewer.addHandler("open", opened);
    viewer.addHandler("viewport-change", publish);
    if (viewer.isOpen()) opened();
    const moved = (e: PointerEvent) => {
      if (now.current.role !== "presenter" || live.current !== viewer || !viewer.isOpen()) return;
      const box = element.getBoundingClientRect();
      // A fresh OpenSeadragon Point without importing the library into this bundle.
      const pixel = viewer.viewport.getCenter(false);
      pixel.x = e.clientX - box.left;
      pixel.y = e.clientY - box.top;
      const at = viewer.viewport.viewerElementToImageCoordinates(pixel);
      senders.current?.pointer.push({ slideId, at: [Math.round(at.x), Math.round(at.y)] });
    };
    const left = () => now.current.role === "presenter" && senders.current?.pointer.push({ slideId, at: null });
    element.addEventListener("pointermove", moved);
    element.addEventListener("pointerleave", left);
    return () => {
      // A destroyed viewer has dropped its handlers already.
      if (live.current === viewer) {
        viewer.removeHandler("open", opened);
        viewer.removeHandler("viewport-change", publish);
      }
      element.removeEventListener("pointermove", moved);
      element.removeEventListener("pointerleave", left);
      marker.current = null;
    };
  }, [viewer, placePointer]);

  // Followers look where the presenter looks: their own mouse and keys move nothing.
  useEffect(() => {
    live.current?.setMouseNavEnabled(!syncing);
    placePointer();
  }, [viewer, syncing, placePointer, role]);

  // A new presenter shares where they are at once.
  useEffect(() => {
    const v = live.current;
    if (role === "presenter" && v?.isOpen() && shown) senders.current?.view.push(readView(v, shown));
  }, [role, viewer, shown]);

  const choose = (slideId: string) => {
    // Looking at another slide than the presenter's is breaking away.
    if (role === "follower") setFollowing(false);
    setShown(slideId);
  };

  async function snapshot() {
    const slide = slides.find((s) => s.slideId === shown);
    const v = live.current;
    if (!v || !slide) return;
    const blob = await new Promise<Blob | null>((resolve) => v.drawer.canvas.toBlob(resolve, "image/jpeg", 0.85));
    if (!blob) return setNotice({ text: "The view could not be captured; try again.", error: true });
    const response = await fetch(`/api/boards/sessions/${sessionId}/snapshots/${slide.itemId}`, { method: "POST", headers: { "content-type": "image/jpeg" }, body: blob }).catch(() => undefined);
    const body = ((await response?.json().catch(() => ({}))) ?? {}) as { number?: number; error?: string };
    setNotice(response?.ok ? { text: `Snapshot ${body.number} kept with ${slide.label.split(" · ")[0]}.` } : { text: body.error ?? "The snapshot could not be saved; try again.", error: true });
  }

  async function handOver() {
    if (!handTo) return;
    try {
      await api.boards.sessions.handOver.mutate({ sessionId, userId: handTo });
      setHandTo("");
    } catch (error) {
      setNotice({ text: error instanceof Error ? error.message : "The presenter role could not be handed over.", error: true });
    }
  }

  const onViewer = useCallback((v: OpenSeadragon.Viewer | null) => {
    live.current = v;
    setViewer(v);
  }, []);
  const current = slides.find((s) => s.slideId === shown);
  const presenterName = presenter.name ?? "the presenter";

  return (
    <section className="board-live" ref={root} aria-label="Live viewer" data-testid="board-live" data-role={role} data-following={String(syncing)}>
      <div className="board-live-bar" role="status" aria-live="polite">
        {connection === "removed" ? (
          <strong>You are no longer a member of this board.</strong>
        ) : status === "closed" ? (
          <span>The session has ended. You can still look at its slides for 24 hours.</span>
        ) : status === "planned" ? (
          <span>Not started: the chair starts the session. Meanwhile, look at the agenda&apos;s slides on your own.</span>
        ) : presenting ? (
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
        {role === "follower" ? (
          following ? (
            <button className="plain" onClick={() => setFollowing(false)}>
              Break away
            </button>
          ) : (
            <button
              onClick={() => {
                setFollowing(true);
                follow(latestView.current);
              }}
            >
              Rejoin
            </button>
          )
        ) : null}
        {presenting ? (
          <button className="plain" onClick={() => void snapshot()} disabled={!current}>
            Snapshot
          </button>
        ) : null}
        {isChair && status === "live" ? (
          <span className="inline-form">
            <select aria-label="Hand the presenter role to" value={handTo} onChange={(e) => setHandTo(e.target.value)}>
              <option value="">Hand over to…</option>
              {members
                .filter((m) => m.userId !== presenter.userId)
                .map((m) => (
                  <option key={m.userId} value={m.userId}>
                    {m.name}
                  </option>
                ))}
            </select>
            <button className="plain" onClick={() => void handOver()} disabled={!handTo}>
              Hand over
            </button>
          </span>
        ) : null}
      </div>
      {notice ? (
        <p className={notice.error ? "error" : "muted"} role={notice.error ? "alert" : "status"} style={{ margin: ".3rem .8rem" }}>
          {notice.text}
        </p>
      ) : null}
      {slides.length > 0 ? (
        <div className="board-slides" role="group" aria-label="Agenda slides">
          {slides.map((s) => (
            <button key={s.slideId} className={s.slideId === shown ? "" : "plain"} aria-pressed={s.slideId === shown} onClick={() => choose(s.slideId)}>
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
        <SlideViewer key={shown} slideId={shown} mpp={current?.mpp ?? null} onViewer={onViewer} />
      )}
    </section>
  );
}
