import Link from "next/link";
import { redirect } from "next/navigation";
import { serverCaller } from "@/server/caller";

async function requestOpinion(form: FormData) {
  "use server";
  const { api } = await serverCaller();
  const caseId = String(form.get("caseId"));
  const target = String(form.get("target") ?? "");
  const [kind, labId, value] = target.split("|");
  const { id } = await api.consults.create({
    caseId,
    slideIds: form.getAll("slideIds").map(String),
    question: String(form.get("question") ?? ""),
    urgency: form.get("urgency") === "urgent" ? "urgent" : "routine",
    targetLabId: labId ?? "",
    targetUserId: kind === "user" ? value : undefined,
    targetSubspecialty: kind === "pool" ? value : undefined,
    shareLabel: form.get("shareLabel") === "on",
  });
  if (form.get("send") === "now") await api.consults.send({ id });
  redirect(`/consults/${id}`);
}

/** A case's second opinions, and the form that asks for one. */
export async function ConsultPanel({ caseId, slides }: { caseId: string; slides: { id: string; block: string; stain: string }[] }) {
  const { api } = await serverCaller();
  const [requests, targets] = await Promise.all([api.consults.forCase({ caseId }), api.consults.targets()]);
  const pools = new Map<string, { labId: string; labName: string; subspecialty: string }>();
  for (const t of targets) for (const s of t.subspecialties) pools.set(`${t.labId}|${s}`, { labId: t.labId, labName: t.labName, subspecialty: s });
  return (
    <section className="panel" aria-labelledby="opinions">
      <h2 id="opinions">Second opinions</h2>
      {requests.length === 0 ? <p className="muted">None asked for this case.</p> : null}
      {requests.map((r) => (
        <div key={r.id} className="card" style={{ marginBottom: ".6rem" }}>
          <div className="row">
            <Link href={`/consults/${r.id}`}>
              To {r.target.pathologist ?? `the ${r.target.subspecialty} pool`}, {r.target.lab}
            </Link>
            <span className={`status ${r.status}`}>{r.status}</span>
            {r.turnaroundHours !== null ? <span className="muted">turnaround {r.turnaroundHours} h</span> : null}
          </div>
          {r.report ? (
            <p>
              <strong>Report by {r.report.author}:</strong> {r.report.diagnosis}
              {r.report.comment ? <span className="muted"> — {r.report.comment}</span> : null}
            </p>
          ) : null}
        </div>
      ))}
      {slides.length ? (
        <details>
          <summary>Ask a pathologist of another lab for a second opinion</summary>
          <form action={requestOpinion} className="form-grid" style={{ marginTop: ".6rem" }}>
            <input type="hidden" name="caseId" value={caseId} />
            <fieldset>
              <legend>Slides to share (read-only, while the request is open)</legend>
              {slides.map((s) => (
                <label key={s.id} className="row">
                  <input type="checkbox" name="slideIds" value={s.id} defaultChecked /> {s.block} · {s.stain}
                </label>
              ))}
            </fieldset>
            <label>
              Clinical question
              <textarea name="question" required minLength={10} placeholder="e.g. Melanoma in situ or severely dysplastic naevus?" />
            </label>
            <label>
              Urgency
              <select name="urgency" defaultValue="routine">
                <option value="routine">Routine</option>
                <option value="urgent">Urgent</option>
              </select>
            </label>
            <label>
              Ask
              <select name="target" required>
                {[...pools.entries()].map(([key, p]) => (
                  <option key={`pool|${key}`} value={`pool|${key}`}>
                    {p.subspecialty} pool — {p.labName}
                  </option>
                ))}
                {targets.map((t) => (
                  <option key={`user|${t.userId}`} value={`user|${t.labId}|${t.userId}`}>
                    {t.name} — {t.labName}
                  </option>
                ))}
              </select>
            </label>
            <label className="row">
              <input type="checkbox" name="shareLabel" /> Show the slide label to the consultant (it may show the patient&apos;s name)
            </label>
            <div className="row">
              <button type="submit" name="send" value="now">
                Send request
              </button>
              <button type="submit" name="send" value="draft" className="plain">
                Save as draft
              </button>
            </div>
          </form>
        </details>
      ) : null}
    </section>
  );
}
