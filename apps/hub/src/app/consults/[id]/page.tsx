import Link from "next/link";
import { notFound, redirect } from "next/navigation";
import { TopBar } from "@/components/top-bar";
import { serverCaller } from "@/server/caller";

export const dynamic = "force-dynamic";

async function act(form: FormData) {
  "use server";
  const id = String(form.get("id"));
  const action = String(form.get("action"));
  const { api } = await serverCaller();
  if (action === "send") await api.consults.send({ id });
  if (action === "accept") await api.consults.accept({ id });
  if (action === "decline") await api.consults.decline({ id, reason: String(form.get("reason") ?? "") });
  if (action === "withdraw") await api.consults.withdraw({ id });
  if (action === "close") await api.consults.close({ id });
  if (action === "report") {
    const codes: Record<string, string> = {};
    for (const key of ["snomed", "icdO"]) {
      const value = String(form.get(key) ?? "").trim();
      if (value) codes[key] = value;
    }
    await api.consults.report({ id, report: { diagnosis: String(form.get("diagnosis") ?? ""), comment: String(form.get("comment") ?? ""), codes } });
  }
  redirect(`/consults/${id}`);
}

const when = (d: Date | null) => (d ? new Date(d).toISOString().replace("T", " ").slice(0, 16) + " UTC" : null);

export default async function ConsultPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const { api, context } = await serverCaller();
  if (!context.user) redirect(`/sign-in?next=/consults/${id}`);
  const c = await api.consults.get({ id }).catch(() => undefined);
  if (!c) notFound();
  const button = (action: string, label: string, plain = false) => (
    <form action={act}>
      <input type="hidden" name="id" value={c.id} />
      <button type="submit" name="action" value={action} className={plain ? "plain" : undefined}>
        {label}
      </button>
    </form>
  );
  return (
    <>
      <TopBar userName={context.user.name} labName={context.lab?.labName} isLabAdmin={context.lab?.role === "lab_admin"} />
      <main>
        <p>
          <Link href="/consults">← Second opinions</Link>
        </p>
        <h1>
          Second opinion on case {c.case.accessionNumber} <span className={`status ${c.status}`}>{c.status}</span>
          {c.urgency === "urgent" ? <span className="status declined" style={{ marginLeft: ".4rem" }}>urgent</span> : null}
        </h1>
        <div className="card">
          <p style={{ marginTop: 0 }}>
            From <strong>{c.requester.name}</strong> ({c.requester.lab}) to{" "}
            <strong>{c.target.pathologist ?? `the ${c.target.subspecialty} pool`}</strong> ({c.target.lab})
            {c.consultant ? (
              <>
                {" "}
                · consultant: <strong>{c.consultant}</strong>
              </>
            ) : null}
          </p>
          <p style={{ whiteSpace: "pre-wrap" }}>{c.question}</p>
          <p className="muted">
            {c.case.specimen} · sent {when(c.times.sent) ?? "not yet"}
            {c.times.accepted ? ` · accepted ${when(c.times.accepted)}` : ""}
            {c.times.reported ? ` · reported ${when(c.times.reported)}` : ""}
            {c.turnaroundHours !== null ? ` · turnaround ${c.turnaroundHours} h` : ""}
          </p>
          {c.declineReason ? <p className="error">Declined: {c.declineReason}</p> : null}
        </div>

        <section className="panel">
          <h2>Slides</h2>
          <div className="thumbs">
            {c.slides.map((s) => (
              <a key={s.id} href={`/slides/${s.id}`} aria-label={`Slide ${s.block} ${s.stain}`}>
                {s.hasThumbnail ? <img src={`/slides/${s.id}/thumbnail`} alt={`Thumbnail of ${s.block} ${s.stain}`} /> : <div style={{ height: 150 }} />}
                <div>
                  {s.block} · {s.stain}
                </div>
              </a>
            ))}
          </div>
          {c.role === "candidate" ? <p className="muted">Accept the request to open the slides.</p> : null}
        </section>

        {c.report ? (
          <section className="panel">
            <h2>Report</h2>
            <div className="card">
              <p style={{ marginTop: 0 }}>
                <strong>{c.report.diagnosis}</strong>
              </p>
              {c.report.comment ? <p style={{ whiteSpace: "pre-wrap" }}>{c.report.comment}</p> : null}
              {Object.entries(c.report.codes).map(([k, v]) => (
                <span key={k} className="muted" style={{ marginRight: "1rem" }}>
                  {k}: {v}
                </span>
              ))}
              <p className="muted">
                {c.report.author}, {when(c.report.at)}
              </p>
            </div>
          </section>
        ) : null}

        <section className="panel">
          <h2>Actions</h2>
          <div className="row">
            {c.role === "requester" && c.status === "draft" ? button("send", "Send request") : null}
            {c.role === "candidate" && c.status === "sent" ? button("accept", "Accept") : null}
            {c.role === "requester" && c.status === "reported" ? button("close", "Close the request") : null}
            {c.role === "requester" && ["draft", "sent", "accepted"].includes(c.status) ? button("withdraw", "Withdraw", true) : null}
            <a href={`/consults/${c.id}/fhir.json`} download>
              Export as FHIR R4 (JSON)
            </a>
          </div>
          {(c.role === "candidate" && c.status === "sent") || (c.role === "consultant" && c.status === "accepted") ? (
            <form action={act} className="row" style={{ marginTop: ".8rem" }}>
              <input type="hidden" name="id" value={c.id} />
              <input name="reason" placeholder="Reason, e.g. outside my field" aria-label="Reason to decline" required />
              <button type="submit" name="action" value="decline" className="plain">
                Decline
              </button>
            </form>
          ) : null}
          {c.role === "consultant" && c.status === "accepted" ? (
            <form action={act} className="form-grid card" style={{ marginTop: ".8rem" }}>
              <input type="hidden" name="id" value={c.id} />
              <label>
                Diagnosis
                <textarea name="diagnosis" required minLength={3} />
              </label>
              <label>
                Comment
                <textarea name="comment" />
              </label>
              <div className="row">
                <label>
                  SNOMED CT <input name="snomed" />
                </label>
                <label>
                  ICD-O <input name="icdO" placeholder="e.g. 8720/2" />
                </label>
              </div>
              <button type="submit" name="action" value="report">
                Send report
              </button>
            </form>
          ) : null}
        </section>
      </main>
    </>
  );
}
