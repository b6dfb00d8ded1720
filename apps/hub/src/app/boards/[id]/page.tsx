import Link from "next/link";
import { notFound, redirect } from "next/navigation";
import { Flash } from "@/components/flash";
import { LocalTime } from "@/components/local-time";
import { ScheduleSessionForm } from "@/components/schedule-session-form";
import { TopBar } from "@/components/top-bar";
import { serverCaller } from "@/server/caller";
import { runFormAction } from "@/server/form-action";

export const dynamic = "force-dynamic";

const statusLabel = { planned: "planned", live: "live now", closed: "closed" } as const;

export default async function BoardPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ message?: string; error?: string }>;
}) {
  const { id } = await params;
  const { message, error } = await searchParams;
  const { api, context } = await serverCaller();
  if (!context.user) redirect(`/sign-in?next=/boards/${id}`);
  const board = await api.boards.get({ id }).catch(() => undefined);
  if (!board) notFound();
  const path = `/boards/${board.id}`;

  async function addMember(form: FormData) {
    "use server";
    const email = String(form.get("email") ?? "");
    await runFormAction(
      path,
      (a) => a.boards.addMember({ boardId: id, email }).then(() => undefined),
      `If ${email.trim()} signs in to the hub as a member of a lab, they are now a member of this board.`,
    );
  }
  async function schedule(form: FormData) {
    "use server";
    const scheduledAt = String(form.get("scheduledAt") ?? "");
    await runFormAction(
      path,
      async (a) => `/boards/sessions/${(await a.boards.schedule({ boardId: id, scheduledAt: new Date(scheduledAt) })).id}`,
      "Session scheduled: put cases on its agenda.",
    );
  }

  return (
    <>
      <TopBar userName={context.user.name} labName={context.lab?.labName} isLabAdmin={context.lab?.role === "lab_admin"} />
      <main>
        <p>
          <Link href="/boards">← Tumor boards</Link>
        </p>
        <h1>{board.name}</h1>
        <Flash message={message} error={error} />
        <h2 className="section">Sessions</h2>
        {board.sessions.length === 0 ? (
          <p className="muted">No session yet.{board.isChair ? " Schedule one below." : " The chair schedules them."}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Date</th>
                <th>Status</th>
                <th>Cases</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {board.sessions.map((s) => (
                <tr key={s.id}>
                  <td>
                    <LocalTime iso={s.scheduledAt.toISOString()} />
                  </td>
                  <td>
                    <span className={`status ${s.status === "live" ? "ready" : ""}`}>{statusLabel[s.status]}</span>
                  </td>
                  <td>{s.cases}</td>
                  <td>
                    <Link href={`/boards/sessions/${s.id}`}>{s.status === "live" ? "Join" : "Open"}</Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {board.isChair ? <ScheduleSessionForm action={schedule} /> : null}
        <h2 className="section">Members</h2>
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Email</th>
              <th>Lab</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {board.members.map((m) => (
              <tr key={m.userId}>
                <td>
                  {m.name}
                  {m.userId === board.chairUserId ? <span className="muted"> · chair</span> : null}
                </td>
                <td>{m.email}</td>
                <td>{m.labNames.join(", ")}</td>
                <td>
                  {board.isChair && m.userId !== board.chairUserId ? (
                    <form
                      action={async () => {
                        "use server";
                        await runFormAction(
                          path,
                          (a) => a.boards.removeMember({ boardId: id, userId: m.userId }),
                          `${m.name} was removed; their access to the board's slides ended.`,
                        );
                      }}
                    >
                      <button className="plain" type="submit" aria-label={`Remove ${m.name}`}>
                        Remove
                      </button>
                    </form>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {board.isChair ? (
          <form action={addMember} className="card inline-form">
            <label>
              Add a member by email <input name="email" type="email" required maxLength={200} placeholder="pathologist@lab.example" />
            </label>
            <button type="submit">Add member</button>
          </form>
        ) : null}
      </main>
    </>
  );
}
