import Link from "next/link";
import { TopBar } from "@/components/top-bar";
import { serverCaller } from "@/server/caller";

/** A missing page keeps the top bar, so the user can go on from here. */
export default async function NotFound() {
  const { context } = await serverCaller().catch(() => ({ context: undefined }));
  const user = context?.user;
  return (
    <>
      {user ? (
        <TopBar userName={user.name} labName={context.lab?.labName} isLabAdmin={context.lab?.role === "lab_admin"} />
      ) : (
        <header className="bar">
          <Link className="brand" href="/">
            Telepathology exchange
          </Link>
          <Link href="/sign-in">Sign in</Link>
        </header>
      )}
      <main>
        <h1>Not found</h1>
        <p>There is no such page, or it belongs to another lab.</p>
        <p>
          <Link href="/">← Back to your slides</Link>
        </p>
      </main>
    </>
  );
}
