/** The hub's one error type: a code the transport maps to a status, and a message for the user. */
export type ApiErrorCode = "NOT_FOUND" | "UNAUTHORIZED" | "FORBIDDEN" | "BAD_REQUEST" | "CONFLICT" | "INTERNAL";

export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(readonly code: ApiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Another lab's resource and a missing one answer the same, so ids reveal nothing. */
export function notFound(what: string): ApiError {
  return new ApiError("NOT_FOUND", `${what} not found.`);
}
