import { z } from "zod";

/**
 * Coded diagnoses of a second-opinion report, in the code systems a receiving system knows:
 * SNOMED CT and ICD-O-3 (the URIs HL7 names). The pathologist gives the code and the term as
 * they read it; the hub checks the code's shape, it ships no licensed terminology.
 */
export const reportCodeSystems = {
  snomed: { name: "SNOMED CT", uri: "http://snomed.info/sct", pattern: /^\d{6,18}$/, example: "400010006" },
  icdO: { name: "ICD-O-3", uri: "http://terminology.hl7.org/CodeSystem/icd-o-3", pattern: /^(\d{4}\/\d|C\d{2}\.\d)$/, example: "8720/2 or C44.6" },
} as const;
export type ReportCodeSystem = keyof typeof reportCodeSystems;

export const reportCodeInput = z
  .object({
    system: z.enum(["snomed", "icdO"]),
    code: z.string().trim().min(1).max(40),
    display: z.string().trim().max(200).default(""),
  })
  .superRefine((c, ctx) => {
    const system = reportCodeSystems[c.system];
    if (!system.pattern.test(c.code))
      ctx.addIssue({ code: "custom", path: ["code"], message: `${c.code} is not a valid ${system.name} code (e.g. ${system.example}).` });
  });
export type ReportCode = z.infer<typeof reportCodeInput>;

/** Stored codes: a list of {system, code, display}; reports written before were {system: code}. */
export function readStoredCodes(stored: unknown): ReportCode[] {
  if (Array.isArray(stored)) return stored as ReportCode[];
  if (!stored || typeof stored !== "object") return [];
  return Object.entries(stored as Record<string, string>)
    .filter(([system]) => system in reportCodeSystems)
    .map(([system, code]) => ({ system: system as ReportCodeSystem, code, display: "" }));
}

/** "ICD-O-3 8720/2 Melanoma in situ": the system's name, the code and its term. */
export function describeCode(c: ReportCode): string {
  return [reportCodeSystems[c.system].name, c.code, c.display].filter(Boolean).join(" ");
}

/** A FHIR R4 CodeableConcept with the standard system URI. */
export function toFhirConcept(c: ReportCode) {
  return {
    coding: [{ system: reportCodeSystems[c.system].uri, code: c.code, ...(c.display ? { display: c.display } : {}) }],
    text: c.display || describeCode(c),
  };
}
