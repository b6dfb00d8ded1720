import { notFound, redirect } from "next/navigation";
import { AutoRefresh } from "@/components/auto-refresh";
import { SlideViewer } from "@/components/slide-viewer";
import { TopBar } from "@/components/top-bar";
import { serverCaller } from "@/server/caller";

export const dynamic = "force-dynamic";

export default async function SlidePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const { api, context } = await serverCaller();
  if (!context.user) redirect(`/sign-in?next=/slides/${id}`);
  const slide = await api.slides.get({ id }).catch(() => undefined);
  if (!slide) notFound();
  return (
    <>
      <TopBar userName={context.user.name} labName={context.lab?.labName} isLabAdmin={context.lab?.role === "lab_admin"} />
      <main className="wide">
        <div style={{ padding: ".4rem .8rem", background: "#fff" }}>
          <strong>{slide.case.accessionNumber}</strong> · {slide.block} · {slide.stain}{" "}
          <span className="muted">
            {slide.width?.toLocaleString("en")} × {slide.height?.toLocaleString("en")} px
            {slide.mppX ? ` · ${slide.mppX.toFixed(3)} µm/px` : " · no scale (MPP unknown)"}
            {slide.objectivePower ? ` · ${slide.objectivePower}×` : ""}
          </span>
        </div>
        {slide.status === "ready" ? (
          <SlideViewer slideId={slide.id} mpp={slide.mppX} />
        ) : (
          <div style={{ padding: "1rem" }}>
            <AutoRefresh active={slide.status === "received" || slide.status === "tiling"} />
            {slide.status === "failed" ? (
              <p className="error" role="alert">
                This slide could not be tiled: {slide.failureReason}
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
