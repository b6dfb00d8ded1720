"use client";

import { useMemo } from "react";
import type { AnnotationView } from "@pathx/api";
import { type AnnotationClient, type TileGrant, AnnotatedSlideViewer as Viewer } from "@pathx/viewer";
import { api, issueTileToken } from "./trpc-client";

/**
 * The first token is the one issued with the page (saves a round trip to the hub before the DZI)
 * when it is this slide's and has a minute left; every later one, and a stale one, comes from tRPC.
 */
function issueFirstFromPage(slideId: string, pageGrant: TileGrant | null | undefined): AnnotationClient["issueTileToken"] {
  let first = pageGrant;
  return (id) => {
    const grant = first;
    first = null;
    return grant && id === slideId && grant.expiresAt - Date.now() > 60_000 ? Promise.resolve(grant) : issueTileToken(id);
  };
}

/** The slide page's viewer with annotations (@pathx/viewer), talking to this hub. */
export function AnnotatedSlideViewer({
  grant,
  ...props
}: {
  slideId: string;
  mpp: number | null;
  initial: AnnotationView[];
  shareWith?: { consultRequestId?: string; boardSessionId?: string };
  grant?: TileGrant | null;
}) {
  const client = useMemo<AnnotationClient>(
    () => ({
      issueTileToken: issueFirstFromPage(props.slideId, grant),
      create: (input) => api.annotations.create.mutate(input),
      remove: (id) => api.annotations.remove.mutate({ id }),
    }),
    [props.slideId, grant],
  );
  return <Viewer {...props} exportHref={`/slides/${props.slideId}/annotations.geojson`} client={client} />;
}
