import { createTRPCClient, httpLink } from "@trpc/client";
import type { AppRouter } from "@pathx/api";

/** The browser's tRPC client of the hub (same origin). */
export const api = createTRPCClient<AppRouter>({ links: [httpLink({ url: "/api/trpc" })] });

/** Asks for a tile service token of a slide; the viewer package renews it through this. */
export const issueTileToken = (slideId: string) => api.slides.tileToken.mutate({ id: slideId });
