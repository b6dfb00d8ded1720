import { notFound, redirect } from "next/navigation";
import { slideTopic } from "@pathx/api";
import { AnnotatedSlideViewer } from "@/components/annotation-layer";
import { LiveRefresh } from "@/components/live-refresh";
import { isSlideBusy } from "@/components/slide-status";
import { TopBar } from "@/components/top-bar";
import { serverCaller } from "@/server/caller";

export const dynamic = "force-dynamic";

async function retryFetch(form: FormData) {
  "use server";
  const id = String(form.get("id") ?? "");
  const { api } = await serverCaller();
  await api.slides.requestFetch({ id });
  redirect(`/slides/${id}`);
}

export default async function SlidePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const { api, context } = await serverCaller();
  if (!context.user) redirect(`/sign-in?next=/slides/${id}`);
  let slide = await api.slides.get({ id }).catch(() => undefined);
  if (!slide) notFound();
  if (slide.status === "indexed") {
    // Opening an index-only slide is the request for it: the lab's node is ordered to send the file.
    await api.slides.requestFetch({ id });
    slide = await api.slides.get({ id });
  }
  const labName = slide.labName;
  // The viewer's first tile token comes with the page (saves the browser a round trip to the hub
  // before the DZI); the viewer renews it itself, and asks for one if the page has none.
  const slideId = slide.id;
  const viewer =
    slide.status === "ready"
      ? await Promise.all([api.annotations.list({ slideId }), api.slides.tileToken({ id: slideId }).catch(() => null)]).then(([annotations, grant]) => ({
          annotations,
          grant,
        }))
      : undefined;
  return (
    <>
      <TopBar userName={context.user.name} labName={context.lab?.labName} isLabAdmin={context.lab?.role === "lab_admin"} />
      <main className="wide">
        {slide.via !== "own-lab" ? (
          <div className="banner" role="note">
            A slide of {slide.labName},{" "}
            {slide.via === "grant" ? "shared with you (second opinion or tumor board)" : "opened as a prior study; your reason was recorded for that lab"}.
            Read-only; this view is recorded.
          </div>
        ) : null}
        <div style={{ padding: ".4rem .8rem", background: "#fff" }}>
          <strong>{slide.case.accessionNumber}</strong> · {slide.block} · {slide.stain}{" "}
          <span className="muted">
            {slide.width?.toLocaleString("en")} × {slide.height?.toLocaleString("en")} px
            {slide.mppX ? ` · ${slide.mppX.toFixed(3)} µm/px` : " · no scale (MPP unknown)"}
            {slide.objectivePower ? ` · ${slide.objectivePower}×` : ""}
          </span>
        </div>
        {viewer ? (
          <AnnotatedSlideViewer
            slideId={slide.id}
            mpp={slide.mppX}
            initial={viewer.annotations}
            grant={viewer.grant}
            shareWith={
              slide.grant?.reason === "consult"
                ? { consultRequestId: slide.grant.sourceId }
                : slide.grant?.reason === "board"
                  ? { boardSessionId: slide.grant.sourceId }
                  : undefined
            }
          />
        ) : (
          <div style={{ padding: "1rem" }}>
            <LiveRefresh topics={[slideTopic(slide.id)]} busy={isSlideBusy(slide.status)} />
            {slide.hasThumbnail && slide.status !== "failed" ? (
              <img src={`/slides/${slide.id}/thumbnail`} alt="Thumbnail of the slide" style={{ float: "right", maxWidth: 240, border: "1px solid #ddd" }} />
            ) : null}
            {slide.status === "failed" ? (
              <>
                <p className="error" role="alert">
                  {slide.indexOnly ? "This slide could not be fetched from the lab" : "This slide could not be tiled"}: {slide.failureReason}
                </p>
                {slide.indexOnly ? (
                  <form action={retryFetch}>
                    <input type="hidden" name="id" value={slide.id} />
                    <button type="submit">Ask the lab again</button>
                  </form>
                ) : null}
              </>
            ) : slide.status === "fetching" ? (
              <p role="status">
                Fetching from {labName} …{" "}
                {slide.fetch?.status === "taken"
                  ? `the lab's node is sending the file: ${Math.round((slide.fetch.fraction ?? 0) * 100)}%`
                  : "waiting for the lab's node to pick up the request"}
                <progress max={1} value={slide.fetch?.fraction ?? 0} style={{ display: "block", width: "20rem" }} aria-label="Fetch progress" />
                <span className="muted">
                  The slide was registered by the lab without its pixels; they are sent on demand and then tiled. This page updates by itself.
                </span>
              </p>
            ) : (
              <p role="status">
                {slide.status === "tiling" ? `Tiling… ${Math.round(slide.progress * 100)}%` : "Waiting for a tiling worker…"}
                <progress max={1} value={slide.progress} style={{ display: "block", width: "20rem" }} aria-label="Tiling progress" />
              </p>
            )}
          </div>
        )}
      </main>
    </>
  );
}
