import { REVOCATIONS_TOPIC, createEventHub, parseRevocation, readRecentRevocations, type Revocation } from "@pathx/api";
import type { DbHandle } from "@pathx/db";
import type { RevocationList } from "@pathx/tile-token";

// Hub processes' clocks may differ a little: a revocation also covers tokens stamped just after it.
const CLOCK_MARGIN_MS = 2000;

export function applyRevocation(list: RevocationList, revocation: Revocation) {
  const at = revocation.at + CLOCK_MARGIN_MS;
  for (const { userId, slideId } of revocation.pairs) list.add({ userId, slideId, at });
  for (const userId of revocation.userIds) list.add({ userId, at });
}

/**
 * Keeps this process's revocation list current: the recent ones first (a process that just
 * started must still refuse tokens revoked before it), then every new one as the event bus
 * delivers it (NOTIFY; a missed notification is caught up within the bus's safety read).
 */
export async function followRevocations(handle: DbHandle, list: RevocationList, keepMs: number, log: (line: string) => void) {
  const hub = await createEventHub(handle, { log });
  const unsubscribe = hub.subscribe([REVOCATIONS_TOPIC], undefined, (event) => {
    const revocation = parseRevocation(event.payload);
    if (revocation) applyRevocation(list, revocation);
  });
  for (const revocation of await readRecentRevocations(handle.db, keepMs)) applyRevocation(list, revocation);
  return async () => {
    unsubscribe();
    await hub.close();
  };
}
