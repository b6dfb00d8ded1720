"use client";

import type { AnnotationView } from "@pathx/api";
import { type AnnotationClient, AnnotatedSlideViewer as Viewer } from "@pathx/viewer";
import { api, issueTileToken } from "./trpc-client";

const client: AnnotationClient = {
  issueTileToken,
  create: (input) => api.annotations.create.mutate(input),
  remove: (id) => api.annotations.remove.mutate({ id }),
};

/** The slide page's viewer with annotations (@pathx/viewer), talking to this hub. */
export function AnnotatedSlideViewer(props: {
  slideId: string;
  mpp: number | null;
  initial: AnnotationView[];
  shareWith?: { consultRequestId?: string; boardSessionId?: string };
}) {
  return <Viewer {...props} exportHref={`/slides/${props.slideId}/annotations.geojson`} client={client} />;
}
