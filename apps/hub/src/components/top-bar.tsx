import Link from "next/link";
import { signOut } from "@/auth";
import { serverCaller } from "@/server/caller";

export async function TopBar({ userName, labName, isLabAdmin }: { userName: string; labName?: string; isLabAdmin?: boolean }) {
  const { api } = await serverCaller();
  const unread = await api.inbox.unread().catch(() => 0);
  return (
    <header className="bar">
      <Link className="brand" href="/">
        Telepathology exchange
      </Link>
      {labName ? <span>{labName}</span> : null}
      <Link href="/consults">Second opinions</Link>
      <Link href="/inbox" aria-label={`Inbox, ${unread} unread`}>
        Inbox{unread ? <span className="badge">{unread}</span> : null}
      </Link>
      <Link href="/boards">Boards</Link>
      {isLabAdmin ? <Link href="/admin">Users</Link> : null}
      <span className="who">{userName}</span>
      <form
        action={async () => {
          "use server";
          await signOut({ redirectTo: "/sign-in" });
        }}
      >
        <button className="plain" type="submit">
          Sign out
        </button>
      </form>
    </header>
  );
}
