import { getAuditKey } from "@/server/deps";

export const dynamic = "force-dynamic";

/** The public key audit checkpoints are signed with, for nodes and auditors (public by design). */
export async function GET() {
  const key = await getAuditKey();
  return new Response(key.publicKeyPem, { headers: { "content-type": "application/x-pem-file", "x-pathx-key-id": key.keyId, "cache-control": "no-store" } });
}
