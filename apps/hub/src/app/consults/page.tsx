import Link from "next/link";
import { redirect } from "next/navigation";
import { TopBar } from "@/components/top-bar";
import { serverCaller } from "@/server/caller";

export const dynamic = "force-dynamic";

export default async function ConsultsPage() {
  const { api, context } = await serverCaller();
  if (!context.user) redirect("/sign-in?next=/consults");
  const all = await api.consults.list();
  const incoming = all.filter((c) => c.role !== "requester");
  const outgoing = all.filter((c) => c.role === "requester");
  const table = (rows: typeof all, empty: string) =>
    rows.length === 0 ? (
      <p className="muted">{empty}</p>
    ) : (
      <table>
        <thead>
          <tr>
            <th>Case</th>
            <th>Question</th>
            <th>Status</th>
            <th>Turnaround</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((c) => (
            <tr key={c.id}>
              <td>
                <Link href={`/consults/${c.id}`}>{c.accessionNumber}</Link>
                {c.urgency === "urgent" ? (
                  <span className="status declined" style={{ marginLeft: ".4rem" }}>
                    urgent
                  </span>
                ) : null}
              </td>
              <td>{c.question.length > 90 ? `${c.question.slice(0, 90)}…` : c.question}</td>
              <td>
                <span className={`status ${c.status}`}>{c.status}</span>
              </td>
              <td>{c.turnaroundHours !== null ? `${c.turnaroundHours} h` : c.sentAt ? "open" : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  return (
    <>
      <TopBar userName={context.user.name} labName={context.lab?.labName} isLabAdmin={context.lab?.role === "lab_admin"} />
      <main>
        <h1>Second opinions</h1>
        <section className="panel">
          <h2>Asked of you</h2>
          {table(incoming, "No request is addressed to you or your subspecialty pools.")}
        </section>
        <section className="panel">
          <h2>Asked by your lab</h2>
          {table(outgoing, "Your lab has not asked for a second opinion yet: open a case and use “Ask a pathologist of another lab”.")}
        </section>
      </main>
    </>
  );
}
