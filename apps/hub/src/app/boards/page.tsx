import Link from "next/link";
import { redirect } from "next/navigation";
import { Flash } from "@/components/flash";
import { LocalTime } from "@/components/local-time";
import { TopBar } from "@/components/top-bar";
import { serverCaller } from "@/server/caller";
import { runFormAction } from "@/server/form-action";

export const dynamic = "force-dynamic";
export const metadata = { title: "Tumor boards · Telepathology exchange" };

async function createBoard(form: FormData) {
  "use server";
  const name = String(form.get("name") ?? "");
  await runFormAction("/boards", async (api) => `/boards/${(await api.boards.create({ name })).id}`, "Board created: add its members and schedule a session.");
}

export default async function BoardsPage({ searchParams }: { searchParams: Promise<{ message?: string; error?: string }> }) {
  const { message, error } = await searchParams;
  const { api, context } = await serverCaller();
  if (!context.user) redirect("/sign-in?next=/boards");
  const boards = await api.boards.list();
  return (
    <>
      <TopBar userName={context.user.name} labName={context.lab?.labName} isLabAdmin={context.lab?.role === "lab_admin"} />
      <main>
        <h1>Tumor boards</h1>
        <Flash message={message} error={error} />
        {boards.length === 0 ? (
          <p className="muted">You are on no tumor board yet. Create one below, or ask a board&apos;s chair to add you.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Board</th>
                <th>Chair</th>
                <th>Members</th>
                <th>Next session</th>
              </tr>
            </thead>
            <tbody>
              {boards.map((b) => (
                <tr key={b.id}>
                  <td>
                    <Link href={`/boards/${b.id}`}>{b.name}</Link>
                  </td>
                  <td>{b.isChair ? "You" : b.chairName}</td>
                  <td>{b.members}</td>
                  <td>{b.nextSessionAt ? <LocalTime iso={b.nextSessionAt.toISOString()} /> : <span className="muted">none scheduled</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h2 className="section">New board</h2>
        <form action={createBoard} className="card inline-form">
          <label>
            Name <input name="name" required maxLength={200} placeholder="e.g. Regional sarcoma panel" />
          </label>
          <button type="submit">Create board</button>
          <span className="muted">You chair it; you can add pathologists of any lab.</span>
        </form>
      </main>
    </>
  );
}
