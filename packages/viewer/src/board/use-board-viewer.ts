"use client";

import { type RefObject, useEffect, useEffectEvent, useRef } from "react";
import type OpenSeadragon from "openseadragon";
import type { Position } from "../types";
import { type BoardState, isSyncing, pointerPosition, roleOf, takesSharedView } from "./board-state";
import type { BoardSenders } from "./use-board-sharing";
import { applyView, imagePixelAt, readView } from "./viewport";

/** Shows the presenter's pointer at `at` (image pixels), or hides it. */
function showPointer(v: OpenSeadragon.Viewer, marker: HTMLElement | null, at: Position | null) {
  if (!marker || !v.isOpen()) return;
  // OpenSeadragon sets the overlay's display on each draw: hiding goes through an attribute.
  if (!at) {
    marker.dataset.hidden = "";
    return;
  }
  delete marker.dataset.hidden;
  v.updateOverlay(marker, v.viewport.imageToViewportCoordinates(at[0], at[1]));
}

/**
 * The board's side effects on the open viewer: the presenter's view and pointer go out, the
 * shared view and pointer come in, followers' own mouse and keys move nothing. `live` is the
 * viewer as SlideViewer sets and clears it synchronously (state lags a render behind, and a
 * destroyed viewer throws when touched); `root` gets the view shown as data-view.
 */
export function useBoardViewer(
  viewer: OpenSeadragon.Viewer | null,
  live: RefObject<OpenSeadragon.Viewer | null>,
  root: RefObject<HTMLElement | null>,
  state: BoardState,
  senders: RefObject<BoardSenders | null>,
) {
  const marker = useRef<HTMLDivElement | null>(null);
  const role = roleOf(state);
  const syncing = isSyncing(state);
  const { shown, moveTo } = state;
  const pointerAt = pointerPosition(state);
  const [pointerX, pointerY] = pointerAt ?? [null, null];

  // Handlers registered once per viewer read the state of the latest render through these.
  const presenting = useEffectEvent(() => roleOf(state) === "presenter");
  const sharedViewFor = useEffectEvent((slideId: string) => takesSharedView(state, slideId));
  const currentPointer = useEffectEvent(() => pointerPosition(state));
  const shownSlide = useEffectEvent(() => state.shown);

  // Per opened viewer: the pointer marker, the presenter's outgoing view and pointer, data-view.
  useEffect(() => {
    const slideId = shownSlide();
    if (!viewer || live.current !== viewer || !slideId) return;
    const element = viewer.element;
    const el = document.createElement("div");
    el.className = "board-pointer";
    el.setAttribute("aria-label", "Presenter's pointer");
    el.dataset.hidden = "";
    marker.current = el;
    let lastPushed = "";
    // viewport-change fires every animation frame; the view read is the animation's target, so
    // only real changes go out.
    const publish = () => {
      const view = readView(viewer, slideId);
      const json = JSON.stringify(view);
      if (root.current) root.current.dataset.view = json;
      if (presenting() && json !== lastPushed) {
        lastPushed = json;
        senders.current?.view.push(view);
      }
    };
    const opened = () => {
      viewer.addOverlay(el, viewer.viewport.getCenter());
      const view = sharedViewFor(slideId);
      if (view) applyView(viewer, view);
      showPointer(viewer, el, currentPointer());
      publish();
    };
    viewer.addHandler("open", opened);
    viewer.addHandler("viewport-change", publish);
    if (viewer.isOpen()) opened();
    const moved = (e: PointerEvent) => {
      if (!presenting() || live.current !== viewer || !viewer.isOpen()) return;
      senders.current?.pointer.push({ slideId, at: imagePixelAt(viewer, e) });
    };
    const left = () => presenting() && senders.current?.pointer.push({ slideId, at: null });
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
  }, [viewer, live, root, senders]);

  useEffect(() => {
    if (viewer && live.current === viewer) showPointer(viewer, marker.current, pointerX === null || pointerY === null ? null : [pointerX, pointerY]);
  }, [viewer, live, pointerX, pointerY]);

  // Followers look where the presenter looks: their own mouse and keys move nothing.
  useEffect(() => {
    if (viewer && live.current === viewer) viewer.setMouseNavEnabled(!syncing);
  }, [viewer, live, syncing]);

  // A new presenter shares where they are at once.
  useEffect(() => {
    if (role === "presenter" && shown && viewer && live.current === viewer && viewer.isOpen()) senders.current?.view.push(readView(viewer, shown));
  }, [role, viewer, live, shown, senders]);

  // The shared view, on the slide already open.
  useEffect(() => {
    const v = live.current;
    if (moveTo && v?.isOpen()) applyView(v, moveTo.view);
  }, [live, moveTo]);
}
