import { createHmac } from "node:crypto";

/**
 * The patient's keyed pseudonym: HMAC-SHA-256 of the national id (trimmed, upper case, no
 * spaces or hyphens) with a key the labs share and the hub never sees. The id itself never leaves the lab.
 */
export function pseudonymise(patientId: string, key: string): string {
  const normalised = patientId.replace(/[\s-]+/g, "").toUpperCase();
  if (!normalised) throw new Error("the patient id is empty");
  return `hmac-sha256:${createHmac("sha256", key).update(normalised).digest("hex")}`;
}
