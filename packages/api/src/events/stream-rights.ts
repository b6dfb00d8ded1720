import type { Db } from "@pathx/db";
import { loadSessionUser } from "../domain/users";
import type { EventHub } from "./bus";
import { REVOCATIONS_TOPIC, parseRevocation, usersOf } from "./revocations";
import { refusedTopics } from "./topics";

/**
 * Topics are authorised when a stream opens; this keeps them authorised while it stays open:
 * when a revocation names the user (a grant ended, removed from a board or lab), the topics
 * are checked again and `onRefused` is called if one is no longer theirs (the caller ends the
 * stream; a reconnect is then refused). Returns the unsubscribe.
 */
export function watchTopicRights(
  hub: Pick<EventHub, "subscribe">,
  db: Db,
  userId: string,
  topics: string[],
  onRefused: (refused: string[]) => void,
): () => void {
  // biome-ignore lint/correctness/noUnusedVariables: read by `??=` below, so one re-check runs at a time.
  let checking: Promise<void> | undefined;
  let done = false;
  const unsubscribe = hub.subscribe([REVOCATIONS_TOPIC], undefined, (event) => {
    const revocation = parseRevocation(event.payload);
    if (done || !revocation || !usersOf(revocation).has(userId)) return;
    checking ??= (async () => {
      const user = await loadSessionUser(db, userId);
      const refused = user ? await refusedTopics(db, user, topics) : topics;
      if (refused.length > 0 && !done) {
        done = true;
        onRefused(refused);
      }
    })()
      .catch(() => {}) // checked again at the next revocation
      .finally(() => {
        checking = undefined;
      });
  });
  return () => {
    done = true;
    unsubscribe();
  };
}
