"use client";

import { type Dispatch, useEffect, useEffectEvent } from "react";
import type { AnnotationView } from "../types";
import type { DrawingAction, PendingAnnotation } from "./drawing-state";

const errorText = (error: unknown, fallback: string) => (error instanceof Error ? error.message : fallback);

/**
 * The hub's side of drawing: each finished shape in the outbox is saved once (the list grows when
 * the hub has saved it), and `remove` deletes one; failures become the panel's message.
 */
export function useAnnotationSaving(
  outbox: PendingAnnotation[],
  dispatch: Dispatch<DrawingAction>,
  create: (pending: PendingAnnotation) => Promise<AnnotationView>,
  remove: (id: string) => Promise<unknown>,
): (id: string) => Promise<void> {
  const save = useEffectEvent(create);
  useEffect(() => {
    for (const pending of outbox) {
      dispatch({ type: "sending", key: pending.key });
      save(pending).then(
        (annotation) => dispatch({ type: "saved", annotation }),
        (error: unknown) => dispatch({ type: "save-failed", label: pending.label, message: errorText(error, "The annotation could not be saved.") }),
      );
    }
  }, [outbox, dispatch]);
  return async (id) => {
    try {
      await remove(id);
      dispatch({ type: "deleted", id });
    } catch (error) {
      dispatch({ type: "failed", message: errorText(error, "The annotation could not be deleted.") });
    }
  };
}
