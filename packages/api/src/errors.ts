/** The hub's one error type: a code the transport maps to a status, and a message for the user. */
/** TOO_LARGE / TIMEOUT: a request body over its route's limit, or too slow to arrive. */
/** DAMAGED: bytes arrived altered in transit (checksum mismatch); the sender sends them again. */
export type ApiErrorCode = "NOT_FOUND" | "UNAUTHORIZED" | "FORBIDDEN" | "BAD_REQUEST" | "CONFLICT" | "DAMAGED" | "TOO_LARGE" | "TIMEOUT" | "INTERNAL";

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

const httpStatus: Record<ApiErrorCode, number> = { NOT_FOUND: 404, BAD_REQUEST: 400, CONFLICT: 409, DAMAGED: 422, UNAUTHORIZED: 401, FORBIDDEN: 403, TOO_LARGE: 413, TIMEOUT: 408, INTERNAL: 500 };

/** The HTTP status a plain (non-tRPC) route answers for an ApiError. */
export function httpStatusOf(error: ApiError): number {
  return httpStatus[error.code];
}
