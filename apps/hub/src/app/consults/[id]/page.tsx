import Link from "next/link";
import { notFound, redirect } from "next/navigation";
import { reportCodeSystems } from "@pathx/api";
import { Flash } from "@/components/flash";
import { TopBar } from "@/components/top-bar";
import { serverCaller } from "@/server/caller";
import { runFormAction } from "@/server/form-action";

export const dynamic = "force-dynamic";

const done: Record<string, string> = {
  send: "The request is sent.",
  accept: "Accepted: the slides are open to you.",
  decline: "Declined; the requester is told why.",
  withdraw: "The request is withdrawn; the consultant no longer has access to its slides.",
  close: "The request is closed.",
  report: "Your report is sent.",
};

async function act(form: FormData) {
  "use server";
  const id = String(form.get("id"));
  const action = String(form.get("action"));
  await runFormAction(
    `/consults/${id}`,
    async (api) => {
      if (action === "send") await api.consults.send({ id });
      if (action === "accept") await api.consults.accept({ id });
      if (action === "decline") await api.consults.decline({ id, reason: String(form.get("reason") ?? "") });
      if (action === "withdraw") await api.consults.withdraw({ id });
      if (action === "close") await api.consults.close({ id });
      if (action === "report") {
        const codes = (["snomed", "icdO"] as const)
          .map((system) => ({ system, code: String(form.get(system) ?? "").trim(), display: String(form.get(`${system}Term`) ?? "").trim() }))
          .filter((c) => c.code);
        await api.consults.report({ id, report: { diagnosis: String(form.get("diagnosis") ?? ""), comment: String(form.get("comment") ?? ""), codes } });
      }
    },
    done[action] ?? "Done.",
  );
}

const when = (d: Date | null) => (d ? `${new Date(d).toISOString().replace("T", " ").slice(0, 16)} UTC` : null);

export default async function ConsultPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ message?: string; error?: string; confirm?: string }>;
}) {
  const { id } = await params;
  const { message, error, confirm } = await searchParams;
  const { api, context } = await serverCaller();
  if (!context.user) redirect(`/sign-in?next=/consults/${id}`);
  const c = await api.consults.get({ id }).catch(() => undefined);
  if (!c) notFound();
  // Opening the request here, not through the inbox, reads its inbox entries too.
  await api.inbox.markRead({ link: `/consults/${c.id}` });
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
          {c.urgency === "urgent" ? (
            <span className="status declined" style={{ marginLeft: ".4rem" }}>
              urgent
            </span>
          ) : null}
        </h1>
        <div className="card">
          <p style={{ marginTop: 0 }}>
            From <strong>{c.requester.name}</strong> ({c.requester.lab}) to <strong>{c.target.pathologist ?? `the ${c.target.subspecialty} pool`}</strong> (
            {c.target.lab})
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
              {c.report.codes.length ? (
                <ul className="codes" aria-label="Coded diagnosis">
                  {c.report.codes.map((code) => (
                    <li key={`${code.system}|${code.code}`}>
                      <span className="muted">{reportCodeSystems[code.system].name}</span> <strong>{code.code}</strong>
                      {code.display ? <> {code.display}</> : null}
                    </li>
                  ))}
                </ul>
              ) : null}
              <p className="muted">
                {c.report.author}, {when(c.report.at)}
              </p>
            </div>
          </section>
        ) : null}

        <section className="panel">
          <h2>Actions</h2>
          <Flash message={message} error={error} />
          {c.role === "requester" && ["draft", "sent", "accepted"].includes(c.status) && confirm === "withdraw" ? (
            <div role="alertdialog" aria-labelledby="withdraw-question" className="card error">
              <p id="withdraw-question" style={{ marginTop: 0 }}>
                <strong>Withdraw this request?</strong>{" "}
                {c.status === "accepted"
                  ? `${c.consultant ?? "The consultant"} loses access to its slides at once and is told it was withdrawn.`
                  : "Nobody can accept it any more; the consultant would lose access to its slides."}{" "}
                This cannot be undone.
              </p>
              <div className="row">
                {button("withdraw", "Withdraw the request")}
                <Link href={`/consults/${c.id}`}>Keep the request</Link>
              </div>
            </div>
          ) : null}
          <div className="row">
            {c.role === "requester" && c.status === "draft" ? button("send", "Send request") : null}
            {c.role === "candidate" && c.status === "sent" ? button("accept", "Accept") : null}
            {c.role === "requester" && c.status === "reported" ? button("close", "Close the request") : null}
            {c.role === "requester" && ["draft", "sent", "accepted"].includes(c.status) && confirm !== "withdraw" ? (
              <Link href={`/consults/${c.id}?confirm=withdraw`} className="button plain">
                Withdraw
              </Link>
            ) : null}
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
                  SNOMED CT code <input name="snomed" inputMode="numeric" placeholder="e.g. 400010006" />
                </label>
                <label>
                  SNOMED CT term <input name="snomedTerm" placeholder="e.g. Compound melanocytic naevus" />
                </label>
              </div>
              <div className="row">
                <label>
                  ICD-O-3 code <input name="icdO" placeholder="e.g. 8720/2" />
                </label>
                <label>
                  ICD-O-3 term <input name="icdOTerm" placeholder="e.g. Melanoma in situ" />
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
