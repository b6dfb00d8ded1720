export type StorageErrorCode = "NOT_FOUND" | "INVALID_KEY" | "IO_ERROR" | "CONFIG";

export class StorageError extends Error {
  override readonly name = "StorageError";
  constructor(readonly code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Keys are relative paths of safe segments: no "..", no leading slash, no control characters. */
export function checkKey(key: string): string {
  if (!key || key.length > 1024 || key.startsWith("/") || key.endsWith("/") || /[\0-\x1f\\]/.test(key) || key.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw new StorageError("INVALID_KEY", `"${key}" is not a valid object key.`);
  }
  return key;
}
