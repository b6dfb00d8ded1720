/**
 * RFC 8785 JSON Canonicalization Scheme: object members sorted by their names' UTF-16 code
 * units, no whitespace, numbers as ECMAScript prints them, strings with the minimal JSON
 * escapes. The same value always gives the same bytes, so a hash of it can be checked anywhere.
 */
export class CanonicalJsonError extends Error {}

const loneSurrogate = /\p{Surrogate}/u;

function writeString(value: string): string {
  // A lone surrogate cannot be encoded as UTF-8: RFC 8785 refuses it rather than guess.
  if (loneSurrogate.test(value)) throw new CanonicalJsonError("a string holds a lone UTF-16 surrogate");
  // JSON.stringify escapes exactly what JCS escapes: " \ and U+0000–U+001F (\b \t \n \f \r short, the rest \u00xx).
  return JSON.stringify(value);
}

function write(value: unknown, path: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${path} is ${value}, which JSON cannot represent`);
      // ECMAScript Number serialisation is what RFC 8785 prescribes (-0 prints as 0).
      return JSON.stringify(value);
    case "string":
      return writeString(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map((item, i) => write(item ?? null, `${path}[${i}]`)).join(",")}]`;
      if (value instanceof Date) return writeString(value.toISOString());
      const members = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
      // Default sort compares UTF-16 code units, as the RFC requires.
      members.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${members.map(([k, v]) => `${writeString(k)}:${write(v, `${path}.${k}`)}`).join(",")}}`;
    }
    default:
      throw new CanonicalJsonError(`${path} is a ${typeof value}, which JSON cannot represent`);
  }
}

export function canonicalJson(value: unknown): string {
  return write(value, "$");
}
