import Link from "next/link";
import { signOut } from "@/auth";

export function TopBar({ userName, labName }: { userName: string; labName?: string }) {
  return (
    <header className="bar">
      <Link className="brand" href="/">
        Telepathology exchange
      </Link>
      {labName ? <span>{labName}</span> : null}
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
