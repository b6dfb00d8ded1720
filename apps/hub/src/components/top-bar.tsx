import Link from "next/link";
import { signOut } from "@/auth";

export function TopBar({ userName, labName, isLabAdmin }: { userName: string; labName?: string; isLabAdmin?: boolean }) {
  return (
    <header className="bar">
      <Link className="brand" href="/">
        Telepathology exchange
      </Link>
      {labName ? <span>{labName}</span> : null}
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
