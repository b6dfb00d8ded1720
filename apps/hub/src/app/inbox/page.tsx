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

export default async function InboxPage() {
  const { api, context } = await serverCaller();
  if (!context.user) redirect("/sign-in?next=/inbox");
  const entries = await api.inbox.list();
  const unread = entries.filter((e) => !e.readAt).length;
  return (
    <>
      <TopBar userName={context.user.name} labName={context.lab?.labName} isLabAdmin={context.lab?.role === "lab_admin"} />
      <main>
        <h1>Inbox</h1>
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
