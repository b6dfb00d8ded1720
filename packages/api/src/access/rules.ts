/**
 * Who may call what: one table for every tRPC procedure and file route of the hub.
 *
 * audience — who may call at all:
 *   signed-in   any signed-in user
 *   lab-member  a member of a lab, acting for it
 *   lab-admin   a lab administrator, acting for their lab
 *   pathologist a pathologist of any lab
 * resource — whose data the call touches, checked in the domain function:
 *   own         only the caller's own (their lab's list, their inbox): never another lab's
 *   own-lab     a resource of the caller's lab; another lab's answers NOT_FOUND
 *   slide       a slide the caller may see: own lab, an active grant (consult or board,
 *               not expired, not revoked), or a prior study opened with a reason while
 *               the caller's lab has an open case for the patient; else NOT_FOUND
 *   consult     a second-opinion request the caller is party to: a member of the requesting
 *               lab, its consultant, or (while unanswered) one it is addressed to
 *   board       a tumor board or session: its members see it, non-members get NOT_FOUND;
 *               `parties` narrows who may act (chair, presenter, a member whose lab owns
 *               the case); other members get FORBIDDEN
 *   authored    something the caller wrote (an annotation): others who can see it get
 *               FORBIDDEN, others who cannot get NOT_FOUND
 *
 * The test in access-rules.test.ts walks every procedure and route of this table for every
 * role × own lab / other lab / granted / grant expired / grant revoked and expects exactly
 * these answers; a procedure missing here fails it.
 */
export type Audience = "signed-in" | "lab-member" | "lab-admin" | "pathologist";
export type Resource = "own" | "own-lab" | "slide" | "consult" | "board" | "authored";

export type BoardParty = "member" | "chair" | "presenter" | "case-lab";

export interface AccessRule {
  audience: Audience;
  resource: Resource;
  /** For boards: which members may act. */
  parties?: BoardParty[];
}

const rule = (audience: Audience, resource: Resource, parties?: BoardParty[]): AccessRule => ({ audience, resource, parties });

export const accessRules = {
  me: rule("signed-in", "own"),
  "slides.list": rule("lab-member", "own"),
  "slides.get": rule("signed-in", "slide"),
  "slides.requestFetch": rule("signed-in", "slide"),
  "members.list": rule("lab-admin", "own"),
  "members.add": rule("lab-admin", "own"),
  "members.setRole": rule("lab-admin", "own-lab"),
  "members.setSubspecialties": rule("lab-admin", "own-lab"),
  "lab.policy": rule("lab-member", "own"),
  "lab.setShareLabelMacro": rule("lab-admin", "own"),
  "nodes.list": rule("lab-admin", "own"),
  "nodes.createEnrollmentToken": rule("lab-admin", "own"),
  "nodes.revoke": rule("lab-admin", "own-lab"),
  "uploads.start": rule("lab-member", "own"),
  "uploads.complete": rule("lab-member", "own-lab"),
  "cases.get": rule("lab-member", "own-lab"),
  "cases.setStatus": rule("lab-member", "own-lab"),
  "cases.priors": rule("lab-member", "own-lab"),
  "cases.openPrior": rule("lab-member", "own-lab"),
  "consults.list": rule("signed-in", "own"),
  "consults.get": rule("signed-in", "consult"),
  "consults.forCase": rule("lab-member", "own-lab"),
  "consults.targets": rule("lab-member", "own"),
  "consults.create": rule("lab-member", "own-lab"),
  "consults.send": rule("signed-in", "consult"),
  "consults.withdraw": rule("signed-in", "consult"),
  "consults.accept": rule("signed-in", "consult"),
  "consults.decline": rule("signed-in", "consult"),
  "consults.report": rule("signed-in", "consult"),
  "consults.close": rule("signed-in", "consult"),
  "consults.fhir": rule("signed-in", "consult"),
  "inbox.list": rule("signed-in", "own"),
  "inbox.unread": rule("signed-in", "own"),
  "inbox.markRead": rule("signed-in", "own"),
  "audit.remoteViews": rule("lab-admin", "own"),
  "annotations.list": rule("signed-in", "slide"),
  "annotations.create": rule("signed-in", "slide"),
  "annotations.remove": rule("signed-in", "authored"),
  "boards.list": rule("signed-in", "own"),
  "boards.create": rule("pathologist", "own"),
  "boards.get": rule("signed-in", "board", ["member"]),
  "boards.addMember": rule("signed-in", "board", ["chair"]),
  "boards.removeMember": rule("signed-in", "board", ["chair"]),
  "boards.schedule": rule("signed-in", "board", ["chair"]),
  "boards.sessions.get": rule("signed-in", "board", ["member"]),
  "boards.sessions.addCase": rule("lab-member", "board", ["case-lab"]),
  "boards.sessions.start": rule("signed-in", "board", ["chair"]),
  "boards.sessions.end": rule("signed-in", "board", ["chair"]),
  "boards.sessions.handOver": rule("signed-in", "board", ["chair"]),
  "boards.sessions.conclude": rule("signed-in", "board", ["member"]),
  "boards.sessions.agree": rule("signed-in", "board", ["chair"]),
  "boards.sessions.addendum": rule("signed-in", "board", ["member"]),
  // File routes (apps/hub/src/app/…): the same rules, decided by the same domain functions.
  "route:/tiles/[slideId]/[...path]": rule("signed-in", "slide"),
  "route:/consults/[id]/fhir.json": rule("signed-in", "consult"),
  "route:/inbox/[id]": rule("signed-in", "own"),
  "route:/slides/[id]/annotations.geojson": rule("signed-in", "slide"),
  "route:/api/boards/sessions/[id]/live": rule("signed-in", "board", ["member"]),
  "route:/api/boards/sessions/[id]/view": rule("signed-in", "board", ["presenter"]),
  "route:/api/boards/sessions/[id]/minutes.md": rule("signed-in", "board", ["member"]),
  "route:/api/boards/sessions/[id]/snapshots/[itemId]": rule("signed-in", "board", ["presenter"]),
  "route:/api/boards/sessions/[id]/snapshots/[itemId]/[n]": rule("signed-in", "board", ["member"]),
} satisfies Record<string, AccessRule>;

export type RuledName = keyof typeof accessRules;
