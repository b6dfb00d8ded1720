import { TRPCError } from "@trpc/server";
import { redirect } from "next/navigation";
import { serverCaller } from "@/server/caller";

const reasons = ["current diagnosis", "tumor board", "comparison with earlier specimen", "treatment planning"];

async function openPrior(form: FormData) {
  "use server";
  const { api } = await serverCaller();
  const { slideId } = await api.cases.openPrior({
    caseId: String(form.get("caseId")),
    slideId: String(form.get("slideId")),
    reason: String(form.get("reason") ?? ""),
  });
  redirect(`/slides/${slideId}`);
}

/** The patient's slides at every lab (matched on the pseudonym), grouped by lab and date. */
export async function PriorsPanel({ caseId }: { caseId: string }) {
  const { api } = await serverCaller();
  // Listing priors is audited (the labs holding them see who looked) and limited for labs with no slide of the patient.
  const priors = await api.cases.priors({ id: caseId }).catch((error: unknown) => {
    if (error instanceof TRPCError && error.code === "FORBIDDEN") return { refused: error.message } as const;
    throw error;
  });
  if ("refused" in priors) {
    return (
      <section className="panel" aria-labelledby="priors">
        <h2 id="priors">Priors</h2>
        <p className="error" role="alert">
          {priors.refused}
        </p>
      </section>
    );
  }
  return (
    <section className="panel" aria-labelledby="priors">
      <h2 id="priors">Priors</h2>
      {priors.linked ? <p className="muted">Listing priors is recorded: the labs that hold them see who looked, and for which case.</p> : null}
      {priors.flagged ? <p className="muted">Your lab has no usable slide of this patient, so such look-ups are limited per hour.</p> : null}
      {!priors.linked ? <p className="muted">This case has no patient pseudonym, so its priors cannot be looked up.</p> : null}
      {priors.linked && !priors.caseOpen ? <p className="muted">The case is signed out: other labs&apos; priors can be listed but not opened.</p> : null}
      {priors.groups.map((g) => (
        <div key={g.labId} className="card" style={{ marginBottom: ".6rem" }}>
          <strong>{g.own ? `${g.labName} (your lab)` : g.labName}</strong>
          <table style={{ marginTop: ".4rem" }}>
            <tbody>
              {g.cases.map((c) => (
                <tr key={c.caseId}>
                  <td style={{ width: "9rem" }}>{new Date(c.date).toISOString().slice(0, 10)}</td>
                  <td>
                    {c.accessionNumber}
                    {c.current ? <span className="muted"> (this case)</span> : null}
                    <div className="muted" style={{ fontSize: ".85rem" }}>
                      {c.specimen}
                    </div>
                  </td>
                  <td>
                    {(c.slides as { id: string; block: string; stain: string; status: string; indexOnly: boolean }[]).map((s) =>
                      g.own ? (
                        <div key={s.id}>
                          <a href={`/slides/${s.id}`}>
                            {s.block} · {s.stain}
                          </a>
                          {s.indexOnly ? <span className="muted"> (at the lab)</span> : null}
                        </div>
                      ) : (
                        <form key={s.id} action={openPrior} className="row" style={{ margin: ".2rem 0" }}>
                          <input type="hidden" name="caseId" value={caseId} />
                          <input type="hidden" name="slideId" value={s.id} />
                          <span>
                            {s.block} · {s.stain}
                            {s.indexOnly ? <span className="muted"> (at the lab)</span> : null}
                          </span>
                          {/* No reason is chosen for the user: the audit records only what they picked. */}
                          <select name="reason" aria-label={`Reason to open ${c.accessionNumber} ${s.block}`} defaultValue="" required>
                            <option value="" disabled>
                              Choose a reason…
                            </option>
                            {reasons.map((r) => (
                              <option key={r}>{r}</option>
                            ))}
                          </select>
                          <button type="submit" className="plain" disabled={!priors.caseOpen}>
                            Open (recorded for {g.labName})
                          </button>
                        </form>
                      ),
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </section>
  );
}
