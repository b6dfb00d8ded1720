import { eq } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import { recordAudit } from "./audit";
import type { SessionUser } from "./users";
import { getConsult } from "./consults";
import { toFhirConcept } from "./report-codes";

const taskStatus: Record<string, string> = {
  draft: "draft",
  sent: "requested",
  accepted: "accepted",
  declined: "rejected",
  reported: "completed",
  closed: "completed",
  withdrawn: "cancelled",
};

/**
 * A second-opinion request as FHIR R4: a collection Bundle with the ServiceRequest (what was
 * asked), the Task (its workflow state) and, once reported, the DiagnosticReport. The patient
 * appears only as the lab's pseudonymous case reference, never by name or national id.
 */
export async function exportConsultFhir(db: Db, user: SessionUser, id: string) {
  const c = await getConsult(db, user, id);
  const [owner] = await db.select({ labId: schema.consultRequests.requesterLabId }).from(schema.consultRequests).where(eq(schema.consultRequests.id, c.id));
  await recordAudit(db, { labId: owner!.labId, actorUserId: user.id, action: "consult.export.fhir", targetType: "consult", targetId: c.id });
  const ref = (type: string) =>
    `urn:uuid:${type === "ServiceRequest" ? c.id : type === "Task" ? `${c.id.slice(0, 24)}000000000001` : `${c.id.slice(0, 24)}000000000002`}`;
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : undefined);
  const specimen = { display: `Case ${c.case.accessionNumber}${c.case.specimen ? ` — ${c.case.specimen}` : ""}` };
  const serviceRequest = {
    resourceType: "ServiceRequest",
    id: c.id,
    status: c.status === "draft" ? "draft" : c.status === "withdrawn" ? "revoked" : ["reported", "closed"].includes(c.status) ? "completed" : "active",
    intent: "order",
    priority: c.urgency === "urgent" ? "urgent" : "routine",
    category: [{ coding: [{ system: "http://snomed.info/sct", code: "108252007", display: "Laboratory procedure" }], text: "Pathology second opinion" }],
    code: { text: "Second opinion on whole-slide images" },
    subject: { identifier: { system: "urn:pathx:case", value: c.case.accessionNumber }, display: "Pseudonymised patient" },
    requester: { display: `${c.requester.name ?? ""} (${c.requester.lab})` },
    performer: [{ display: c.target.pathologist ? `${c.target.pathologist} (${c.target.lab})` : `${c.target.subspecialty} pool, ${c.target.lab}` }],
    authoredOn: iso(c.times.sent ?? c.times.created),
    note: [{ text: c.question }],
    specimen: [specimen],
    supportingInfo: c.slides.map((s) => ({ identifier: { system: "urn:pathx:slide", value: s.id }, display: `Slide ${s.block} ${s.stain}`.trim() })),
  };
  const task = {
    resourceType: "Task",
    id: ref("Task").slice(9),
    status: taskStatus[c.status],
    intent: "order",
    priority: serviceRequest.priority,
    basedOn: [{ reference: ref("ServiceRequest") }],
    focus: { reference: ref("ServiceRequest") },
    authoredOn: serviceRequest.authoredOn,
    lastModified: iso(c.times.closed ?? c.times.reported ?? c.times.accepted ?? c.times.sent ?? c.times.created),
    owner: c.consultant ? { display: c.consultant } : undefined,
    statusReason: c.declineReason ? { text: c.declineReason } : undefined,
    output: c.report ? [{ type: { text: "Second-opinion report" }, valueReference: { reference: ref("DiagnosticReport") } }] : undefined,
  };
  const entries: { fullUrl: string; resource: object }[] = [
    { fullUrl: ref("ServiceRequest"), resource: serviceRequest },
    { fullUrl: ref("Task"), resource: task },
  ];
  if (c.report) {
    entries.push({
      fullUrl: ref("DiagnosticReport"),
      resource: {
        resourceType: "DiagnosticReport",
        id: ref("DiagnosticReport").slice(9),
        status: "final",
        basedOn: [{ reference: ref("ServiceRequest") }],
        category: [
          { coding: [{ system: "http://terminology.hl7.org/CodeSystem/v2-0074", code: "PAT", display: "Pathology (gross & histopath, not surgical)" }] },
        ],
        code: { text: "Pathology second-opinion report" },
        subject: serviceRequest.subject,
        issued: iso(c.report.at),
        performer: [{ display: c.report.author ?? "" }],
        conclusion: c.report.diagnosis,
        conclusionCode: c.report.codes.length ? c.report.codes.map(toFhirConcept) : undefined,
        presentedForm: c.report.comment ? [{ contentType: "text/plain", data: Buffer.from(c.report.comment, "utf8").toString("base64") }] : undefined,
      },
    });
  }
  return { resourceType: "Bundle", type: "collection", timestamp: new Date().toISOString(), entry: entries };
}
