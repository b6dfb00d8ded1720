import Link from "next/link";

export default function NotFound() {
  return (
    <main>
      <h1>Not found</h1>
      <p>There is no such page, or it belongs to another lab.</p>
      <p>
        <Link href="/">Back to your slides</Link>
      </p>
    </main>
  );
}
