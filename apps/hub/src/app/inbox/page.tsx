import { redirect } from "next/navigation";
import { TopBar } from "@/components/top-bar";
import { serverCaller } from "@/server/caller";

export const dynamic = "force-dynamic";

async function markAllRead() {
  "use server";
  const { api } = await serverCaller();
  await api.inbox.markRead({});
  redirect("/inbox");
}

/** A lab's invitation is answered by the person invited; nothing changes for them before they accept. */
async function answerInvitation(form: FormData) {
  "use server";
  const { api } = await serverCaller();
  const id = String(form.get("id") ?? "");
  if (form.get("answer") === "accept") await api.invitations.accept({ id });
  else await api.invitations.decline({ id });
  redirect("/inbox");
}

export default async function InboxPage() {
  const { api, context } = await serverCaller();
  if (!context.user) redirect("/sign-in?next=/inbox");
  const entries = await api.inbox.list();
  const invitations = await api.invitations.list();
  const unread = entries.filter((e) => !e.readAt).length;
  return (
    <>
      <TopBar userName={context.user.name} labName={context.lab?.labName} isLabAdmin={context.lab?.role === "lab_admin"} />
      <main>
        <h1>Inbox</h1>
        {invitations.length ? (
          <section id="invitations" className="card" style={{ marginBottom: "1rem" }} aria-label="Invitations">
            <strong>Invitations to join a lab</strong>
            {invitations.map((i) => (
              <form key={i.id} action={answerInvitation} className="inline-form" style={{ marginTop: ".5rem" }}>
                <input type="hidden" name="id" value={i.id} />
                {i.labName} invites you as {i.role === "lab_admin" ? "lab administrator" : "pathologist"}.{" "}
                <button type="submit" name="answer" value="accept">
                  Accept
                </button>{" "}
                <button type="submit" name="answer" value="decline" className="plain">
                  Decline
                </button>
              </form>
            ))}
          </section>
        ) : null}
        {unread ? (
          <form action={markAllRead} style={{ marginBottom: ".8rem" }}>
            <button type="submit" className="plain">
              Mark all {unread} as read
            </button>
          </form>
        ) : null}
        {entries.length === 0 ? <p className="muted">Nothing yet: requests, replies and board agendas arrive here.</p> : null}
        <table>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id} style={e.readAt ? undefined : { fontWeight: 600 }}>
                <td style={{ width: "11rem" }} className="muted">
                  {new Date(e.createdAt).toISOString().replace("T", " ").slice(0, 16)} UTC
                </td>
                <td>
                  <a href={`/inbox/${e.id}`}>{e.title}</a>
                </td>
                <td>{e.readAt ? "" : <span className="badge">new</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </main>
    </>
  );
}
