import Link from "next/link";
import { notFound, redirect } from "next/navigation";
import { SlideStatus } from "@/components/slide-status";
import { TopBar } from "@/components/top-bar";
import { serverCaller } from "@/server/caller";

export const dynamic = "force-dynamic";

export default async function CasePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const { api, context } = await serverCaller();
  if (!context.user) redirect(`/sign-in?next=/cases/${id}`);
  const kase = await api.cases.get({ id }).catch(() => undefined);
  if (!kase) notFound();
  return (
    <>
      <TopBar userName={context.user.name} labName={context.lab?.labName} isLabAdmin={context.lab?.role === "lab_admin"} />
      <main>
        <p>
          <Link href="/">← All slides</Link>
        </p>
        <h1>Case {kase.accessionNumber}</h1>
        <p className="muted">{kase.specimen || "Specimen not recorded"}</p>
        <div className="thumbs">
          {kase.slides.map((s) => (
            <a key={s.id} href={`/slides/${s.id}`} aria-label={`Slide ${s.block} ${s.stain}`}>
              {s.hasThumbnail ? <img src={`/tiles/${s.id}/thumbnail`} alt={`Thumbnail of ${s.block} ${s.stain}`} /> : <div style={{ height: 150 }} />}
              <div>
                {s.block} · {s.stain}
              </div>
              <SlideStatus status={s.status} progress={s.progress} />
            </a>
          ))}
        </div>
      </main>
    </>
  );
}
