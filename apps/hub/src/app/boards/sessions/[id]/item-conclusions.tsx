import { LocalTime } from "@/components/local-time";
import { runFormAction } from "@/server/form-action";

type Entry = { id: string; kind: "contribution" | "agreed" | "addendum"; author: string; at: Date; text: string; basedOn: string | null };
type Conclusions = { history: Entry[]; agreed: (Entry & { proposedBy: string | null }) | null };

/**
 * An agenda item's record: the agreed conclusion the chair marked, every member's contribution
 * with its author and time, signed addenda after the session closed, and the full history.
 */
export function ItemConclusions(props: { sessionId: string; itemId: string; accession: string; conclusions: Conclusions; isChair: boolean; closed: boolean }) {
  const { sessionId, itemId, accession, conclusions, isChair, closed } = props;
  const path = `/boards/sessions/${sessionId}`;
  const { agreed, history } = conclusions;
  const contributions = history.filter((h) => h.kind === "contribution");
  const addenda = history.filter((h) => h.kind === "addendum");

  async function contribute(form: FormData) {
    "use server";
    const conclusion = String(form.get("conclusion") ?? "");
    await runFormAction(
      path,
      (a) => a.boards.sessions.conclude({ sessionId, itemId, conclusion }).then(() => undefined),
      `Your contribution on ${accession} is recorded.`,
    );
  }
  async function agree(form: FormData) {
    "use server";
    const contributionId = String(form.get("contributionId") ?? "");
    await runFormAction(
      path,
      (a) => a.boards.sessions.agree({ sessionId, itemId, contributionId }),
      `Marked as the board's agreed conclusion on ${accession}.`,
    );
  }
  async function addendum(form: FormData) {
    "use server";
    const text = String(form.get("addendum") ?? "");
    await runFormAction(
      path,
      (a) => a.boards.sessions.addendum({ sessionId, itemId, text }).then(() => undefined),
      `Your signed addendum on ${accession} is recorded.`,
    );
  }

  return (
    <div className="conclusions">
      {agreed ? (
        <blockquote data-testid="agreed-conclusion">
          <strong>Agreed conclusion:</strong> {agreed.text}
          <footer className="muted">
            — proposed by {agreed.proposedBy ?? "a member"}, marked agreed by {agreed.author} (chair), <LocalTime iso={agreed.at.toISOString()} />
          </footer>
        </blockquote>
      ) : (
        <p className="muted">No agreed conclusion yet{closed ? "." : ": members add contributions, the chair marks the agreed one."}</p>
      )}
      {contributions.length ? (
        <ul className="contributions" aria-label={`Contributions on ${accession}`}>
          {contributions.map((c) => (
            <li key={c.id} data-testid="contribution">
              <span className="muted">
                {c.author}, <LocalTime iso={c.at.toISOString()} />
                {agreed?.basedOn === c.id ? " · agreed" : ""}:
              </span>{" "}
              {c.text}
              {isChair && !closed && agreed?.basedOn !== c.id ? (
                <form action={agree} className="inline">
                  <input type="hidden" name="contributionId" value={c.id} />
                  <button type="submit" className="plain small" aria-label={`Mark ${c.author}'s contribution as agreed`}>
                    Mark as agreed
                  </button>
                </form>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      {addenda.map((a) => (
        <blockquote key={a.id} data-testid="addendum">
          <strong>Addendum:</strong> {a.text}
          <footer className="muted">
            — signed by {a.author}, <LocalTime iso={a.at.toISOString()} />
          </footer>
        </blockquote>
      ))}
      {closed ? (
        <form action={addendum}>
          <p className="muted">The session is closed: its record is read-only. A correction is a new addendum, signed with your name and the time.</p>
          <label className="muted" htmlFor={`addendum-${itemId}`}>
            Addendum
          </label>
          <textarea id={`addendum-${itemId}`} name="addendum" rows={2} required maxLength={10_000} />
          <button type="submit">Sign and add the addendum</button>
        </form>
      ) : (
        <form action={contribute}>
          <label className="muted" htmlFor={`conclusion-${itemId}`}>
            Your contribution to the conclusion
          </label>
          <textarea id={`conclusion-${itemId}`} name="conclusion" rows={3} required maxLength={10_000} />
          <button type="submit">Add contribution</button>
        </form>
      )}
      {history.length > contributions.length ? (
        <details>
          <summary className="muted">History ({history.length} entries)</summary>
          <ol className="muted">
            {history.map((h) => (
              <li key={h.id}>
                <LocalTime iso={h.at.toISOString()} /> · {h.author} · {h.kind === "agreed" ? "marked agreed" : h.kind}: {h.text}
              </li>
            ))}
          </ol>
        </details>
      ) : null}
    </div>
  );
}
