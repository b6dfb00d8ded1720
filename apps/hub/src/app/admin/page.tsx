import { TRPCError } from "@trpc/server";
import { revalidatePath } from "next/cache";
import { cookies } from "next/headers";
import Link from "next/link";
import { redirect } from "next/navigation";
import { TopBar } from "@/components/top-bar";
import { hubEnv } from "@/env";
import { AuditChainCard } from "@/components/audit-chain-card";
import { serverCaller } from "@/server/caller";
import { PriorLookups } from "./prior-lookups";

export const dynamic = "force-dynamic";
export const metadata = { title: "Lab administration · Telepathology exchange" };

/** Runs a mutation; its user-facing message comes back in the URL so the page can show it. */
async function perform(run: (api: Awaited<ReturnType<typeof serverCaller>>["api"]) => Promise<unknown>, done: string) {
  "use server";
  const { api } = await serverCaller();
  let message = done;
  try {
    await run(api);
  } catch (error) {
    message = error instanceof TRPCError ? error.message : "That did not work; try again.";
  }
  revalidatePath("/admin");
  redirect(`/admin?message=${encodeURIComponent(message)}`);
}

export default async function AdminPage({ searchParams }: { searchParams: Promise<{ message?: string }> }) {
  const { message } = await searchParams;
  // The new token travels in a short-lived cookie, not the URL, so it stays out of logs and history.
  const token = (await cookies()).get("pathx-enrol-token")?.value;
  const { api, context } = await serverCaller();
  if (!context.user) redirect("/sign-in?next=/admin");
  if (context.lab?.role !== "lab_admin") {
    return (
      <>
        <TopBar userName={context.user.name} labName={context.lab?.labName} />
        <main>
          <p>Only a lab administrator can manage the lab's users.</p>
        </main>
      </>
    );
  }
  const members = await api.members.list();
  const nodes = await api.nodes.list();
  const policy = await api.lab.policy();
  const remoteViews = await api.audit.remoteViews();
  const auditChain = await api.audit.chain();
  const priorLookups = await api.audit.priorLookups();
  // The lab this page administers, named explicitly in what it changes.
  const labId = context.lab.labId;
  return (
    <>
      <TopBar userName={context.user.name} labName={context.lab.labName} isLabAdmin />
      <main>
        <p>
          <Link href="/">← Slides</Link>
        </p>
        <h1>Users of {context.lab.labName}</h1>
        {message ? (
          <p role="status" className="card">
            {message}
          </p>
        ) : null}
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Email</th>
              <th>Role</th>
              <th>Second-opinion pools</th>
              <th></th>
              <th></th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {members.map((m) => (
              <tr key={m.userId}>
                <td>{m.name}</td>
                <td>{m.email}</td>
                <td>{m.role === "lab_admin" ? "Lab admin" : "Pathologist"}</td>
                <td>
                  <form
                    className="row"
                    action={async (form: FormData) => {
                      "use server";
                      const pools = String(form.get("pools") ?? "")
                        .split(",")
                        .map((p) => p.trim())
                        .filter(Boolean);
                      await perform((a) => a.members.setSubspecialties({ userId: m.userId, subspecialties: pools }), `${m.name}'s pools were saved.`);
                    }}
                  >
                    <input
                      name="pools"
                      defaultValue={m.subspecialties.join(", ")}
                      placeholder="e.g. dermatopathology"
                      aria-label={`Pools of ${m.name}`}
                      size={22}
                    />
                    <button className="plain" type="submit">
                      Save
                    </button>
                  </form>
                </td>
                <td>
                  <form
                    action={async () => {
                      "use server";
                      const next = m.role === "lab_admin" ? "pathologist" : "lab_admin";
                      await perform(
                        (a) => a.members.setRole({ userId: m.userId, role: next }),
                        `${m.name} is now ${next === "lab_admin" ? "a lab admin" : "a pathologist"}.`,
                      );
                    }}
                  >
                    <button className="plain" type="submit">
                      {m.role === "lab_admin" ? "Make pathologist" : "Make lab admin"}
                    </button>
                  </form>
                </td>
                <td>
                  {/* Ends every session of theirs at once, on every hub (a lost laptop, a shared password). */}
                  <form
                    action={async () => {
                      "use server";
                      await perform((a) => a.members.signOutEverywhere({ userId: m.userId }), `${m.name} was signed out everywhere.`);
                    }}
                  >
                    <button className="plain" type="submit">
                      Sign out everywhere
                    </button>
                  </form>
                </td>
                <td>
                  <form
                    action={async () => {
                      "use server";
                      await perform((a) => a.members.remove({ userId: m.userId }), `${m.name} was removed from the lab and signed out.`);
                    }}
                  >
                    <button className="plain" type="submit" aria-label={`Remove ${m.name} from the lab`}>
                      Remove
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <h2 style={{ fontSize: "1.1rem", marginTop: "2rem" }}>Lab nodes</h2>
        <form
          className="card"
          style={{ marginBottom: ".6rem" }}
          action={async () => {
            "use server";
            const share = !policy.shareLabelMacro;
            await perform(
              (a) => a.lab.setShareLabelMacro({ share }),
              share ? "Nodes now send label and macro images." : "Nodes now keep label and macro images in the lab.",
            );
          }}
        >
          <p style={{ marginTop: 0 }}>
            Label and macro images (they show the patient's name):{" "}
            <strong>{policy.shareLabelMacro ? "sent to the hub" : "kept in the lab — nodes remove them before publishing"}</strong>
          </p>
          <button className="plain" type="submit">
            {policy.shareLabelMacro ? "Keep them in the lab" : "Allow sending them"}
          </button>
        </form>
        {token ? (
          <div className="card" role="status" aria-label="Enrolment token">
            <p>One-time enrolment token (valid 24 hours; shown on this page for 5 minutes). On the lab's node run:</p>
            <code data-testid="enrol-command">
              pathx node enroll --hub {hubEnv().AUTH_URL ?? "<this hub's URL>"} --token {token}
            </code>
            <p>
              Token: <code data-testid="enrol-token">{token}</code>
            </p>
          </div>
        ) : null}
        <table>
          <thead>
            <tr>
              <th>Node</th>
              <th>Version</th>
              <th>Last seen</th>
              <th>Published</th>
              <th>Waiting</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {nodes.length === 0 ? (
              <tr>
                <td colSpan={6} className="muted">
                  No node enrolled yet.
                </td>
              </tr>
            ) : null}
            {nodes.map((n) => (
              <tr key={n.id}>
                <td>{n.name}</td>
                <td>{n.version ?? "—"}</td>
                <td>{n.revokedAt ? "revoked" : n.lastSeenAt ? `${new Date(n.lastSeenAt).toISOString().replace("T", " ").slice(0, 19)} UTC` : "never"}</td>
                <td>
                  <Link href={`/?node=${n.id}`}>
                    {n.published} {n.published === 1 ? "slide" : "slides"}
                  </Link>
                </td>
                <td>
                  {n.queueDepth}
                  {n.lastError ? (
                    <div className="error" style={{ fontSize: ".85rem" }}>
                      {n.lastError}
                    </div>
                  ) : null}
                </td>
                <td>
                  {n.revokedAt ? null : (
                    <form
                      action={async () => {
                        "use server";
                        await perform((a) => a.nodes.revoke({ nodeId: n.id }), `${n.name} was revoked; it can no longer reach the hub.`);
                      }}
                    >
                      <button className="plain" type="submit">
                        Revoke
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <form
          style={{ marginTop: ".6rem" }}
          action={async () => {
            "use server";
            const { api: a } = await serverCaller();
            const created = await a.nodes.createEnrollmentToken();
            (await cookies()).set("pathx-enrol-token", created.token, { httpOnly: true, sameSite: "strict", maxAge: 300, path: "/admin" });
            redirect("/admin");
          }}
        >
          <button type="submit">Create an enrolment token</button>
        </form>
        <h2 style={{ fontSize: "1.1rem", marginTop: "2rem" }}>Who outside the lab viewed its slides</h2>
        {remoteViews.length === 0 ? (
          <p className="muted">Nobody from another lab has opened this lab&apos;s slides.</p>
        ) : (
          <table aria-label="Remote views">
            <thead>
              <tr>
                <th>When</th>
                <th>Who</th>
                <th>Slide</th>
                <th>Why</th>
              </tr>
            </thead>
            <tbody>
              {remoteViews.map((v) => (
                <tr key={v.id}>
                  <td>{new Date(v.at).toISOString().replace("T", " ").slice(0, 16)} UTC</td>
                  <td>
                    {v.viewer} <span className="muted">({v.viewerLab || v.viewerEmail})</span>
                  </td>
                  <td>
                    <Link href={`/slides/${v.slideId}`}>{v.accession || "slide"}</Link>
                  </td>
                  <td>{v.action === "prior.open" ? `prior study: ${v.reason}` : v.reason || "viewed"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h2 style={{ fontSize: "1.1rem", marginTop: "2rem" }}>Audit chain</h2>
        <AuditChainCard state={auditChain} />
        <PriorLookups rows={priorLookups} />
        <h2 style={{ fontSize: "1.1rem", marginTop: "2rem" }}>Add a user</h2>
        <form
          className="card"
          action={async (form: FormData) => {
            "use server";
            const email = String(form.get("email") ?? "");
            await perform(
              (a) =>
                a.members.add({
                  labId,
                  email,
                  name: String(form.get("name") ?? ""),
                  role: form.get("role") === "lab_admin" ? "lab_admin" : "pathologist",
                  password: String(form.get("password") ?? "") || undefined,
                }),
              `${email}: a new account joins the lab at once; someone who already signs in to the hub gets an invitation and joins when they accept it.`,
            );
          }}
        >
          <p>
            <label htmlFor="new-email">Email</label>
            <br />
            <input id="new-email" name="email" type="email" required />
          </p>
          <p>
            <label htmlFor="new-name">Name</label>
            <br />
            <input id="new-name" name="name" />
          </p>
          <p>
            <label htmlFor="new-role">Role</label>
            <br />
            <select id="new-role" name="role" defaultValue="pathologist">
              <option value="pathologist">Pathologist</option>
              <option value="lab_admin">Lab admin</option>
            </select>
          </p>
          <p>
            <label htmlFor="new-password">First password (used only if the e-mail has no account yet; 10+ characters)</label>
            <br />
            <input id="new-password" name="password" type="password" autoComplete="new-password" />
          </p>
          <button type="submit">Add user</button>
        </form>
      </main>
    </>
  );
}
