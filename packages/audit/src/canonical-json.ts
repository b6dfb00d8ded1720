/**
 * RFC 8785 JSON Canonicalization Scheme: object members sorted by their names' UTF-16 code
 * units, no whitespace, numbers as ECMAScript prints them, strings with the minimal JSON
 * escapes. The same value always gives the same bytes, so a hash of it can be checked anywhere.
 */
export class CanonicalJsonError extends Error {}

/** ES2024, in Node 20 but not in the ES2023 lib this repo compiles against. */
interface WellFormedCheck {
  isWellFormed(): boolean;
}

/** A string as RFC 8785 writes it. */
export function writeString(value: string): string {
  // A lone surrogate cannot be encoded as UTF-8: RFC 8785 refuses it rather than guess.
  if (!(value as unknown as WellFormedCheck).isWellFormed()) throw new CanonicalJsonError("a string holds a lone UTF-16 surrogate");
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
      // Loops and string appends rather than entries/filter/map/join: the verifier runs this per entry.
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) out += `${i ? "," : ""}${write(value[i] ?? null, `${path}[${i}]`)}`;
        return `${out}]`;
      }
      if (value instanceof Date) return writeString(value.toISOString());
      const record = value as Record<string, unknown>;
      // Default sort compares UTF-16 code units, as the RFC requires.
      const names = Object.keys(record).sort();
      let out = "{";
      for (const name of names) {
        const member = record[name];
        if (member === undefined) continue;
        out += `${out.length > 1 ? "," : ""}${writeString(name)}:${write(member, `${path}.${name}`)}`;
      }
      return `${out}}`;
    }
    default:
      throw new CanonicalJsonError(`${path} is a ${typeof value}, which JSON cannot represent`);
  }
}

export function canonicalJson(value: unknown): string {
  return write(value, "$");
}
