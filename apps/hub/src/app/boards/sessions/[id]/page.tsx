import Link from "next/link";
import { notFound, redirect } from "next/navigation";
import { BoardLive } from "@/components/board-live";
import { Flash } from "@/components/flash";
import { LocalTime } from "@/components/local-time";
import { TopBar } from "@/components/top-bar";
import { serverCaller } from "@/server/caller";
import { ItemConclusions } from "./item-conclusions";
import { runFormAction } from "@/server/form-action";

export const dynamic = "force-dynamic";

export default async function BoardSessionPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ message?: string; error?: string }>;
}) {
  const { id } = await params;
  const { message, error } = await searchParams;
  const { api, context } = await serverCaller();
  if (!context.user) redirect(`/sign-in?next=/boards/sessions/${id}`);
  const session = await api.boards.sessions.get({ id }).catch(() => undefined);
  if (!session) notFound();
  const path = `/boards/sessions/${session.id}`;
  const me = context.user.id;

  async function addCase(form: FormData) {
    "use server";
    const accessionNumber = String(form.get("accession") ?? "");
    await runFormAction(
      path,
      (a) => a.boards.sessions.addCase({ sessionId: id, accessionNumber }).then(() => undefined),
      `${accessionNumber.trim()} is on the agenda; its slides are shared with the board's members for this session.`,
    );
  }
  async function start() {
    "use server";
    await runFormAction(path, (a) => a.boards.sessions.start({ sessionId: id }), "The session is live: you present first.");
  }
  async function end() {
    "use server";
    await runFormAction(path, (a) => a.boards.sessions.end({ sessionId: id }), "The session is closed. Members of other labs keep its slides for 24 hours.");
  }

  const slides = session.agenda.flatMap((item) =>
    item.slides.map((s) => ({
      slideId: s.id,
      itemId: item.id,
      label: `${item.accessionNumber} · ${[s.block, s.stain].filter(Boolean).join(" · ")}`,
      mpp: s.mppX,
      status: s.status,
    })),
  );

  return (
    <>
      <TopBar userName={context.user.name} labName={context.lab?.labName} isLabAdmin={context.lab?.role === "lab_admin"} />
      <main className="board-page">
        <p>
          <Link href={`/boards/${session.board.id}`}>← {session.board.name}</Link>
        </p>
        <div className="board-head">
          <h1>
            {session.board.name}, <LocalTime iso={session.scheduledAt.toISOString()} />
          </h1>
          <span className={`status ${session.status === "live" ? "ready" : ""}`} data-testid="session-status">
            {session.status === "live" ? "live" : session.status}
          </span>
          {session.isChair && session.status === "planned" ? (
            <form action={start}>
              <button type="submit">Start session</button>
            </form>
          ) : null}
          {session.isChair && session.status !== "closed" ? (
            <form action={end}>
              <button className="plain" type="submit">
                End session
              </button>
            </form>
          ) : null}
          <a href={`/api/boards/sessions/${session.id}/minutes.md`} download>
            Export minutes (Markdown)
          </a>
        </div>
        <Flash message={message} error={error} />
        <div className="board-session">
          <section aria-label="Agenda" className="agenda">
            <h2 className="section">Agenda</h2>
            {session.agenda.length === 0 ? <p className="muted">No case yet. Members put cases of their own lab on the agenda.</p> : null}
            <ol>
              {session.agenda.map((item) => (
                <li key={item.id} className="card" data-testid="agenda-item">
                  <strong>{item.accessionNumber}</strong> {item.specimen ? `— ${item.specimen}` : null}
                  <div className="muted">
                    {item.labName} · {item.slides.map((s) => [s.block, s.stain].filter(Boolean).join(" · ")).join("; ") || "no slides"}
                  </div>
                  <ItemConclusions
                    sessionId={session.id}
                    itemId={item.id}
                    accession={item.accessionNumber}
                    conclusions={item.conclusions}
                    isChair={session.isChair}
                    closed={session.status === "closed"}
                  />
                  {item.snapshots > 0 ? (
                    <div className="snapshots">
                      {Array.from({ length: item.snapshots }, (_, i) => (
                        // biome-ignore lint/suspicious/noArrayIndexKey: snapshots are numbered 1..n; the number is their identity (and their URL).
                        <a key={i} href={`/api/boards/sessions/${session.id}/snapshots/${item.id}/${i + 1}`} target="_blank" rel="noreferrer">
                          <img src={`/api/boards/sessions/${session.id}/snapshots/${item.id}/${i + 1}`} alt={`Snapshot ${i + 1} of ${item.accessionNumber}`} />
                        </a>
                      ))}
                    </div>
                  ) : null}
                </li>
              ))}
            </ol>
            {context.lab && session.status !== "closed" ? (
              <form action={addCase} className="card">
                <label htmlFor="accession">Put a case of {context.lab.labName} on the agenda</label>
                <div className="inline-form">
                  <input id="accession" name="accession" required maxLength={100} placeholder="Accession, e.g. N26-0001" />
                  <button type="submit">Add case</button>
                </div>
              </form>
            ) : null}
            <h2 className="section">Members</h2>
            <ul className="muted">
              {session.members.map((m) => (
                <li key={m.userId}>
                  {m.name} ({m.labNames.join(", ")}){m.userId === session.board.chairUserId ? " · chair" : ""}
                </li>
              ))}
            </ul>
          </section>
          <BoardLive
            sessionId={session.id}
            me={me}
            isChair={session.isChair}
            members={session.members.map((m) => ({ userId: m.userId, name: m.name }))}
            slides={slides}
            initial={{
              status: session.status,
              presenterUserId: session.presenter?.userId ?? null,
              presenterName: session.presenter?.name ?? null,
              view: session.viewState,
            }}
          />
        </div>
      </main>
    </>
  );
}
