import { CodedError, type ErrorCode } from "@pathx/errors";

/** Every failure the slide engine reports carries one of these codes (their statuses and exit codes: @pathx/errors). */
export type WsiErrorCode = ErrorCode<"wsi">;

export class WsiError extends CodedError<"wsi"> {
  override readonly name = "WsiError";
  constructor(code: WsiErrorCode, message: string, options?: { cause?: unknown }) {
    super("wsi", code, message, options);
  }
}

export function isWsiError(error: unknown): error is WsiError {
  return error instanceof WsiError;
}

/** Turns anything thrown while parsing a file into a WsiError, keeping WsiErrors as they are. */
export function toWsiError(error: unknown, fallback: WsiErrorCode, context: string): WsiError {
  if (error instanceof WsiError) return error;
  if (error instanceof RangeError) {
    return new WsiError("CORRUPT", `${context}: the file's structure is damaged (${error.message}).`, { cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new WsiError(fallback, `${context}: ${detail}`, { cause: error });
}
