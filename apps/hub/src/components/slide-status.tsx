/** A slide's state in the words a pathologist reads in lists. */
export function SlideStatus({ status, progress }: { status: string; progress: number }) {
  const label =
    status === "tiling"
      ? `tiling ${Math.round(progress * 100)}%`
      : status === "received"
        ? "queued"
        : status === "indexed"
          ? "at the lab"
          : status === "fetching"
            ? "fetching from lab"
            : status;
  return <span className={`status ${status}`}>{label}</span>;
}

/** What the link to a slide's page offers, by state. */
export function slideLinkLabel(status: string): string {
  if (status === "ready") return "Open viewer";
  if (status === "indexed") return "Fetch and view";
  if (status === "failed") return "Details";
  return "Progress";
}

/** Whether a list holding slides in these states should refresh itself. */
export function isSlideBusy(status: string): boolean {
  return status === "received" || status === "tiling" || status === "fetching";
}
