import { and, eq, inArray } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import { recordAudit } from "./audit";
import { formatUtc, getBoardSession } from "./board-sessions";

const { auditEvents, users } = schema;

/** User-written text stays text in the minutes: no accidental emphasis, links or HTML. */
function md(text: string): string {
  return text.replace(/[\\`*_[\]<>#|!]/g, (c) => `\\${c}`);
}

/**
 * The session's minutes as Markdown: board, date, members and who attended, then per agenda
 * item the case, its slides, the agreed conclusion, every contribution and addendum with its
 * author and time, and the snapshots, referenced by
 * their hub URL (members open them signed in).
 */
export async function boardMinutesMarkdown(db: Db, userId: string, sessionId: string, hubUrl: string): Promise<{ fileName: string; markdown: string }> {
  const s = await getBoardSession(db, userId, sessionId);
  const attended = await db
    .selectDistinct({ name: users.name })
    .from(auditEvents)
    .innerJoin(users, eq(users.id, auditEvents.actorUserId))
    .where(and(eq(auditEvents.action, "board.session.join"), eq(auditEvents.targetType, "board_session"), eq(auditEvents.targetId, s.id)))
    .orderBy(users.name);
  const chair = s.members.find((m) => m.userId === s.board.chairUserId);
  const who = (m: { name: string; labNames: string[] }) => `${md(m.name)} (${m.labNames.map(md).join(", ") || "no lab"})`;
  const state =
    s.status === "closed"
      ? `closed ${s.endedAt ? formatUtc(s.endedAt) : ""}`.trim()
      : s.status === "live"
        ? "in progress: these minutes are a draft"
        : "not started yet: these minutes are a draft";
  const lines = [
    `# ${md(s.board.name)}: minutes`,
    "",
    `- **Session:** ${formatUtc(s.scheduledAt)} (${state})`,
    `- **Chair:** ${chair ? who(chair) : "unknown"}`,
    `- **Members:** ${s.members.map(who).join("; ")}`,
    `- **Attended the live session:** ${attended.length ? attended.map((a) => md(a.name)).join(", ") : "nobody joined"}`,
    "",
  ];
  if (s.agenda.length === 0) lines.push("No case was on the agenda.", "");
  for (const [index, item] of s.agenda.entries()) {
    lines.push(`## ${index + 1}. ${md(item.accessionNumber)}${item.specimen ? ` — ${md(item.specimen)}` : ""}`, "");
    lines.push(`- **Lab:** ${md(item.labName)}`);
    lines.push(`- **Slides:** ${item.slides.map((sl) => [sl.block, sl.stain].filter(Boolean).map(md).join(" · ") || "unlabelled").join("; ") || "none"}`, "");
    const { agreed, history } = item.conclusions;
    const quote = (text: string) => text.split(/\r?\n/).map((line) => `> ${md(line)}`);
    if (agreed) {
      lines.push(
        `**Agreed conclusion** (proposed by ${md(agreed.proposedBy ?? "a member")}, marked agreed by ${md(agreed.author)}, ${formatUtc(agreed.at)}):`,
        "",
        ...quote(agreed.text),
        "",
      );
    } else {
      lines.push("_No agreed conclusion._", "");
    }
    const contributions = history.filter((h) => h.kind === "contribution");
    if (contributions.length) {
      lines.push("**Contributions:**", "");
      for (const c of contributions) lines.push(`- ${md(c.author)}, ${formatUtc(c.at)}:`, ...quote(c.text).map((l) => `  ${l}`));
      lines.push("");
    }
    for (const a of history.filter((h) => h.kind === "addendum")) {
      lines.push(`**Addendum** signed by ${md(a.author)}, ${formatUtc(a.at)}:`, "", ...quote(a.text), "");
    }
    for (let n = 1; n <= item.snapshots; n++) {
      lines.push(`![Snapshot ${n} of ${md(item.accessionNumber)}](${hubUrl}/api/boards/sessions/${s.id}/snapshots/${item.id}/${n})`, "");
    }
  }
  // An export of every agenda case: each owning lab's chain records it.
  const caseLabs = await db
    .selectDistinct({ labId: schema.cases.labId })
    .from(schema.cases)
    .where(
      inArray(
        schema.cases.id,
        s.agenda.map((i) => i.caseId ?? ""),
      ),
    );
  for (const { labId } of caseLabs.length ? caseLabs : [{ labId: null }]) {
    await recordAudit(db, { labId, actorUserId: userId, action: "board.minutes.export", targetType: "board_session", targetId: s.id });
  }
  const date = s.scheduledAt.toISOString().slice(0, 10);
  const slug =
    s.board.name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "") || "board";
  return { fileName: `${slug}-${date}-minutes.md`, markdown: lines.join("\n") };
}
