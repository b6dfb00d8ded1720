import Link from "next/link";
import { redirect } from "next/navigation";
import { labSlidesTopic } from "@pathx/api";
import { LiveRefresh } from "@/components/live-refresh";
import { SlideStatus, isSlideBusy, slideLinkLabel } from "@/components/slide-status";
import { TopBar } from "@/components/top-bar";
import { UploadPanel } from "@/components/upload-panel";
import { serverCaller } from "@/server/caller";

export const dynamic = "force-dynamic";

export default async function DashboardPage({ searchParams }: { searchParams: Promise<{ q?: string; node?: string }> }) {
  const { q, node } = await searchParams;
  const { api, context } = await serverCaller();
  if (!context.user) redirect("/sign-in");
  if (!context.lab) {
    return (
      <>
        <TopBar userName={context.user.name} />
        <main>
          <p>Your account belongs to no lab yet. Ask your lab administrator to add you.</p>
        </main>
      </>
    );
  }
  const nodeId = node && /^[0-9a-f-]{36}$/.test(node) ? node : undefined;
  const slides = await api.slides.list({ search: q, nodeId });
  return (
    <>
      <TopBar userName={context.user.name} labName={context.lab.labName} isLabAdmin={context.lab.role === "lab_admin"} />
      <main>
        <LiveRefresh topics={[labSlidesTopic(context.lab.labId)]} busy={slides.some((s) => isSlideBusy(s.status))} />
        <h1>Slides of {context.lab.labName}</h1>
        <UploadPanel />
        {/* biome-ignore lint/a11y/useSemanticElements: <form role="search"> is the search landmark every browser supports; <search> is new. */}
        <form className="search" role="search">
          <label htmlFor="q" className="muted" style={{ alignSelf: "center" }}>
            Accession number
          </label>
          <input id="q" name="q" defaultValue={q ?? ""} placeholder="e.g. N26-0042" />
          <button type="submit">Search</button>
        </form>
        {nodeId ? (
          <p className="muted">
            Showing the slides one lab node published. <Link href="/">Show all</Link>
          </p>
        ) : null}
        {slides.length === 0 ? (
          <p className="muted">{q ? `No slide matches "${q}".` : "No slides yet."}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Accession</th>
                <th>Block · stain</th>
                <th>Status</th>
                <th>Size</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {slides.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Link href={`/cases/${s.caseId}`}>{s.accessionNumber}</Link>
                    <div className="muted" style={{ fontSize: ".85rem" }}>
                      {s.specimen}
                    </div>
                  </td>
                  <td>
                    {s.block} · {s.stain}
                  </td>
                  <td>
                    <SlideStatus status={s.status} progress={s.progress} />
                    {s.failureReason ? (
                      <div className="error" style={{ fontSize: ".85rem" }}>
                        {s.failureReason}
                      </div>
                    ) : null}
                  </td>
                  <td>{s.width && s.height ? `${s.width.toLocaleString("en")} × ${s.height.toLocaleString("en")}` : "—"}</td>
                  <td>
                    <Link href={`/slides/${s.id}`}>{slideLinkLabel(s.status)}</Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </main>
    </>
  );
}
