import { CodedError, type ErrorCode } from "@pathx/errors";

/** The object store's failures (their statuses: @pathx/errors). */
export type StorageErrorCode = ErrorCode<"storage">;

export class StorageError extends CodedError<"storage"> {
  override readonly name = "StorageError";
  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super("storage", code, message, options);
  }
}

/** Keys are relative paths of safe segments: no "..", no leading slash, no control characters. */
export function checkKey(key: string): string {
  if (
    !key ||
    key.length > 1024 ||
    key.startsWith("/") ||
    key.endsWith("/") ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what the check refuses.
    /[\0-\x1f\\]/.test(key) ||
    key.split("/").some((s) => s === "" || s === "." || s === "..")
  ) {
    throw new StorageError("INVALID_KEY", `"${key}" is not a valid object key.`);
  }
  return key;
}
