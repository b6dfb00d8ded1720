import Link from "next/link";
import { signOut } from "@/auth";
import { serverCaller } from "@/server/caller";
import { LiveRefresh } from "./live-refresh";

export async function TopBar({ userName, labName, isLabAdmin }: { userName: string; labName?: string; isLabAdmin?: boolean }) {
  const { api, context } = await serverCaller();
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
      {/* A new request, reply or agenda updates the count on any open page, whichever hub it came through. */}
      {context.user ? <LiveRefresh topics={[`inbox:${context.user.id}`]} busy={false} /> : null}
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
      <form
        action={async () => {
          "use server";
          // Every session of this user ends, this one and those on other devices.
          await (await serverCaller()).api.sessions.signOutEverywhere();
          await signOut({ redirectTo: "/sign-in" });
        }}
      >
        <button className="plain" type="submit" title="Also signs you out on every other device">
          Sign out everywhere
        </button>
      </form>
    </header>
  );
}
