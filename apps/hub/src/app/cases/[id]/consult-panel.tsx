import Link from "next/link";
import { redirect } from "next/navigation";
import { serverCaller } from "@/server/caller";
import { ConsultRequestForm } from "./consult-request-form";

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
  const options = [
    ...[...pools.entries()].map(([key, p]) => ({ value: `pool|${key}`, label: `${p.subspecialty} pool — ${p.labName}` })),
    ...targets.map((t) => ({ value: `user|${t.labId}|${t.userId}`, label: `${t.name} — ${t.labName}` })),
  ];
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
          <ConsultRequestForm caseId={caseId} slides={slides} targets={options} action={requestOpinion} />
        </details>
      ) : null}
    </section>
  );
}
