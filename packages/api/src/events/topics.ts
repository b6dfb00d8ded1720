import type { Db } from "@pathx/db";
import { resolveSlideAccess } from "../access/slide-access";
import { requireSessionMember } from "../domain/boards";
import type { SessionUser } from "../domain/users";
import { type EventInput, publishEvents } from "./bus";

/** Every change to the lab's slides (the dashboard). */
export const labSlidesTopic = (labId: string) => `lab:${labId}:slides`;
/** One slide's status and tiling progress (its page). */
export const slideTopic = (slideId: string) => `slide:${slideId}`;

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

interface TopicRule {
  pattern: RegExp;
  /** Whether this user may receive the topic's events; the match's groups are its parts. */
  allows(db: Db, user: SessionUser, parts: string[]): Promise<boolean>;
}

const isMember = (user: SessionUser, labId: string) => user.memberships.some((m) => m.labId === labId);

/**
 * Who may subscribe to what: one rule per kind of topic. A topic no rule matches is refused.
 * A new kind of topic adds a rule here.
 */
const rules: TopicRule[] = [
  { pattern: new RegExp(`^lab:(${UUID}):slides$`), allows: async (_db, user, [labId]) => isMember(user, labId!) },
  // Whoever may see the slide (its lab, a consultant, a board member) may follow its progress.
  { pattern: new RegExp(`^slide:(${UUID})$`), allows: async (db, user, [slideId]) => Boolean(await resolveSlideAccess(db, user, slideId!)) },
  { pattern: new RegExp(`^inbox:(${UUID})$`), allows: async (_db, user, [userId]) => user.id === userId },
  {
    pattern: new RegExp(`^board:(${UUID})$`),
    allows: (db, user, [sessionId]) =>
      requireSessionMember(db, sessionId!, user.id).then(
        () => true,
        () => false,
      ),
  },
];

/** The topics this user may not subscribe to (empty: all allowed). */
export async function refusedTopics(db: Db, user: SessionUser, topics: string[]): Promise<string[]> {
  const refused: string[] = [];
  for (const topic of topics) {
    const rule = rules.find((r) => r.pattern.test(topic));
    const parts = rule ? rule.pattern.exec(topic)!.slice(1) : [];
    if (!rule || !(await rule.allows(db, user, parts))) refused.push(topic);
  }
  return refused;
}

export interface SlideChange {
  labId: string;
  slideId: string;
  status: string;
  progress?: number;
  failureReason?: string | null;
}

export interface SlideEventPayload extends Record<string, unknown> {
  kind: "slide";
  slideId: string;
  status: string;
  progress: number;
  failureReason: string | null;
}

/** A slide's new state, to its page and to its lab's dashboard. */
export function slideEvents(change: SlideChange): EventInput[] {
  const payload: SlideEventPayload = {
    kind: "slide",
    slideId: change.slideId,
    status: change.status,
    progress: change.progress ?? 0,
    failureReason: change.failureReason ?? null,
  };
  return [
    { topic: slideTopic(change.slideId), labId: change.labId, payload },
    { topic: labSlidesTopic(change.labId), labId: change.labId, payload },
  ];
}

export function publishSlideChange(db: Db, change: SlideChange): Promise<number[]> {
  return publishEvents(db, slideEvents(change));
}
