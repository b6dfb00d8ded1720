/**
 * Who may call what: one table for every tRPC procedure and file route of the hub, and the tile service.
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
 * audit — what the call writes to the audit chain when it succeeds:
 *   always      every call (administrative acts, consult and board actions, exports)
 *   cross-lab   when the data belongs to another lab than the caller's (in the owning lab's chain)
 *   (none)      nothing: reads of the caller's own data, or covered by another audited act
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
  audit?: Audit;
}

export type Audit = "always" | "cross-lab";

const rule = (audience: Audience, resource: Resource, parties?: BoardParty[]): AccessRule => ({ audience, resource, parties });
const audited = (r: AccessRule, audit: Audit = "always"): AccessRule => ({ ...r, audit });

export const accessRules = {
  me: rule("signed-in", "own"),
  "slides.list": rule("lab-member", "own"),
  "slides.get": audited(rule("signed-in", "slide"), "cross-lab"),
  "slides.tileToken": audited(rule("signed-in", "slide"), "cross-lab"),
  "slides.requestFetch": audited(rule("signed-in", "slide"), "cross-lab"),
  "members.list": rule("lab-admin", "own"),
  "members.add": audited(rule("lab-admin", "own-lab")),
  "members.setRole": audited(rule("lab-admin", "own-lab")),
  "members.setSubspecialties": audited(rule("lab-admin", "own-lab")),
  "members.remove": audited(rule("lab-admin", "own-lab")),
  "members.signOutEverywhere": audited(rule("lab-admin", "own-lab")),
  "sessions.signOutEverywhere": rule("signed-in", "own"),
  "lab.policy": rule("lab-member", "own"),
  "lab.setShareLabelMacro": audited(rule("lab-admin", "own")),
  "nodes.list": rule("lab-admin", "own"),
  "nodes.createEnrollmentToken": audited(rule("lab-admin", "own")),
  "nodes.revoke": audited(rule("lab-admin", "own-lab")),
  "uploads.start": rule("lab-member", "own"),
  "uploads.complete": rule("lab-member", "own-lab"),
  "cases.get": rule("lab-member", "own-lab"),
  "cases.setStatus": rule("lab-member", "own-lab"),
  "cases.priors": audited(rule("lab-member", "own-lab")),
  "cases.openPrior": audited(rule("lab-member", "own-lab"), "cross-lab"),
  "consults.list": rule("signed-in", "own"),
  "consults.get": rule("signed-in", "consult"),
  "consults.forCase": rule("lab-member", "own-lab"),
  "consults.targets": rule("lab-member", "own"),
  "consults.create": audited(rule("lab-member", "own-lab")),
  "consults.send": audited(rule("signed-in", "consult")),
  "consults.withdraw": audited(rule("signed-in", "consult")),
  "consults.accept": audited(rule("signed-in", "consult")),
  "consults.decline": audited(rule("signed-in", "consult")),
  "consults.report": audited(rule("signed-in", "consult")),
  "consults.close": audited(rule("signed-in", "consult")),
  "consults.fhir": audited(rule("signed-in", "consult")),
  "invitations.list": rule("signed-in", "own"),
  "invitations.accept": audited(rule("signed-in", "own")),
  "invitations.decline": audited(rule("signed-in", "own")),
  "inbox.list": rule("signed-in", "own"),
  "inbox.unread": rule("signed-in", "own"),
  "inbox.markRead": rule("signed-in", "own"),
  "audit.remoteViews": rule("lab-admin", "own"),
  "audit.chain": rule("lab-admin", "own"),
  "audit.priorLookups": rule("lab-admin", "own"),
  "annotations.list": rule("signed-in", "slide"),
  "annotations.create": audited(rule("signed-in", "slide"), "cross-lab"),
  "annotations.remove": rule("signed-in", "authored"),
  "boards.list": rule("signed-in", "own"),
  "boards.create": audited(rule("pathologist", "own")),
  "boards.get": rule("signed-in", "board", ["member"]),
  "boards.addMember": audited(rule("signed-in", "board", ["chair"])),
  "boards.removeMember": audited(rule("signed-in", "board", ["chair"])),
  "boards.schedule": audited(rule("signed-in", "board", ["chair"])),
  "boards.sessions.get": rule("signed-in", "board", ["member"]),
  "boards.sessions.addCase": audited(rule("lab-member", "board", ["case-lab"])),
  "boards.sessions.start": audited(rule("signed-in", "board", ["chair"])),
  "boards.sessions.end": audited(rule("signed-in", "board", ["chair"])),
  "boards.sessions.handOver": audited(rule("signed-in", "board", ["chair"])),
  "boards.sessions.conclude": audited(rule("signed-in", "board", ["member"])),
  "boards.sessions.agree": audited(rule("signed-in", "board", ["chair"])),
  "boards.sessions.addendum": audited(rule("signed-in", "board", ["member"])),
  // File routes (apps/hub/src/app/…): the same rules, decided by the same domain functions.
  "route:/slides/[id]/thumbnail": rule("signed-in", "slide"),
  // The tile service (apps/tiles): a token from slides.tileToken, checked without the database.
  "tiles:/tiles/[slideId]/[version]/…": audited(rule("signed-in", "slide"), "cross-lab"),
  "route:/consults/[id]/fhir.json": audited(rule("signed-in", "consult")),
  "route:/inbox/[id]": rule("signed-in", "own"),
  "route:/slides/[id]/annotations.geojson": audited(rule("signed-in", "slide")),
  "route:/api/boards/sessions/[id]/live": audited(rule("signed-in", "board", ["member"])),
  "route:/api/boards/sessions/[id]/view": rule("signed-in", "board", ["presenter"]),
  "route:/api/boards/sessions/[id]/minutes.md": audited(rule("signed-in", "board", ["member"])),
  "route:/api/boards/sessions/[id]/snapshots/[itemId]": rule("signed-in", "board", ["presenter"]),
  "route:/api/boards/sessions/[id]/snapshots/[itemId]/[n]": rule("signed-in", "board", ["member"]),
} satisfies Record<string, AccessRule>;

export type RuledName = keyof typeof accessRules;
