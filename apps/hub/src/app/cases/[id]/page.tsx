import Link from "next/link";
import { notFound, redirect } from "next/navigation";
import { SlideStatus } from "@/components/slide-status";
import { TopBar } from "@/components/top-bar";
import { ConsultPanel } from "./consult-panel";
import { PriorsPanel } from "./priors-panel";
import { serverCaller } from "@/server/caller";

export const dynamic = "force-dynamic";

async function setStatus(form: FormData) {
  "use server";
  const id = String(form.get("id"));
  const { api } = await serverCaller();
  await api.cases.setStatus({ id, status: form.get("status") === "signed_out" ? "signed_out" : "open" });
  redirect(`/cases/${id}`);
}

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
        <form action={setStatus} className="row" style={{ marginBottom: ".8rem" }}>
          <span className="muted">{kase.specimen || "Specimen not recorded"}</span>
          <span className={`status ${kase.status === "open" ? "accepted" : "closed"}`}>{kase.status === "open" ? "open" : "signed out"}</span>
          <input type="hidden" name="id" value={kase.id} />
          <input type="hidden" name="status" value={kase.status === "open" ? "signed_out" : "open"} />
          <button type="submit" className="plain">
            {kase.status === "open" ? "Sign out the case" : "Reopen the case"}
          </button>
        </form>
        <div className="thumbs">
          {kase.slides.map((s) => (
            <a key={s.id} href={`/slides/${s.id}`} aria-label={`Slide ${s.block} ${s.stain}`}>
              {s.hasThumbnail ? <img src={`/slides/${s.id}/thumbnail`} alt={`Thumbnail of ${s.block} ${s.stain}`} /> : <div style={{ height: 150 }} />}
              <div>
                {s.block} · {s.stain}
              </div>
              <SlideStatus status={s.status} progress={s.progress} />
            </a>
          ))}
        </div>
        <ConsultPanel caseId={kase.id} slides={kase.slides} />
        <PriorsPanel caseId={kase.id} />
      </main>
    </>
  );
}
