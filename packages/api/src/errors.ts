import { CodedError, type ErrorCode } from "@pathx/errors";

/**
 * The hub's one error type: a code from the error table (@pathx/errors, section `api`), which
 * gives the transports its HTTP status and tRPC code, and a message for the user.
 */
export type ApiErrorCode = ErrorCode<"api">;

export class ApiError extends CodedError<"api"> {
  override readonly name = "ApiError";
  constructor(code: ApiErrorCode, message: string, options?: { cause?: unknown }) {
    super("api", code, message, options);
  }
}

/** Another lab's resource and a missing one answer the same, so ids reveal nothing. */
export function notFound(what: string): ApiError {
  return new ApiError("NOT_FOUND", `${what} not found.`);
}

/** The HTTP status a plain (non-tRPC) route answers for an ApiError. */
export function httpStatusOf(error: ApiError): number {
  return error.httpStatus;
}
