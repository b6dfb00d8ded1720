/** tRPC's error codes (TRPC_ERROR_CODE_KEY in @trpc/server; packages/api checks this list against it). */
export type TrpcCode =
  | "PARSE_ERROR"
  | "BAD_REQUEST"
  | "INTERNAL_SERVER_ERROR"
  | "NOT_IMPLEMENTED"
  | "BAD_GATEWAY"
  | "SERVICE_UNAVAILABLE"
  | "GATEWAY_TIMEOUT"
  | "UNAUTHORIZED"
  | "PAYMENT_REQUIRED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "METHOD_NOT_SUPPORTED"
  | "TIMEOUT"
  | "CONFLICT"
  | "PRECONDITION_FAILED"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "UNPROCESSABLE_CONTENT"
  | "PRECONDITION_REQUIRED"
  | "TOO_MANY_REQUESTS"
  | "CLIENT_CLOSED_REQUEST";

/** What one error code means at each edge. */
export interface ErrorSpec {
  /** The status a plain HTTP route (or the tile service) answers. */
  readonly http: number;
  /** The code a tRPC procedure fails with. */
  readonly trpc: TrpcCode;
  /** The `pathx` command line's exit status. */
  readonly exit: number;
  /**
   * Said when nothing more specific may be: an HTTP answer that must not reveal more (a tile, a
   * thumbnail), a failure of no known cause. A thrown error's own message says more and wins elsewhere.
   */
  readonly message: string;
}

const spec = (http: number, trpc: TrpcCode, exit: number, message: string): ErrorSpec => ({ http, trpc, exit, message });

// A file the engine cannot read is the file's fault and the same each time: 422 to a viewer, exit 1.
const damaged = spec(422, "UNPROCESSABLE_CONTENT", 1, "This part of the slide is damaged in the scanner's file and cannot be shown.");

/**
 * Every error code of the exchange, one section per error class. A class takes its codes from
 * its section and its HTTP status, tRPC code and exit code from here; nothing else maps them.
 * To add a code: add its row here (all four columns), then throw it; `error-table.test.ts`
 * checks that no two hub codes share an HTTP status (the node reads the hub's code from it).
 */
export const ERROR_TABLE = {
  /** ApiError (packages/api): the hub's domain functions, tRPC procedures and routes. */
  api: {
    BAD_REQUEST: spec(400, "BAD_REQUEST", 1, "The request is not valid."),
    UNAUTHORIZED: spec(401, "UNAUTHORIZED", 1, "Sign in to continue."),
    FORBIDDEN: spec(403, "FORBIDDEN", 1, "You may not do this."),
    NOT_FOUND: spec(404, "NOT_FOUND", 1, "Not found."),
    /** A request body too slow to arrive. */
    TIMEOUT: spec(408, "TIMEOUT", 1, "The request did not arrive in time; send it again."),
    CONFLICT: spec(409, "CONFLICT", 1, "This changed meanwhile; look again and retry."),
    /** A request body over its route's limit. */
    TOO_LARGE: spec(413, "PAYLOAD_TOO_LARGE", 1, "The request is larger than this route takes."),
    /** Bytes altered in transit (checksum mismatch): the sender sends them again. */
    DAMAGED: spec(422, "UNPROCESSABLE_CONTENT", 1, "The data arrived damaged; send it again."),
    INTERNAL: spec(500, "INTERNAL_SERVER_ERROR", 1, "The hub could not do this just now; try again."),
  },
  /** WsiError (packages/wsi): the slide engine, in the tile service and the command line. */
  wsi: {
    NOT_A_TIFF: damaged,
    UNSUPPORTED_FORMAT: damaged,
    UNSUPPORTED_COMPRESSION: damaged,
    TRUNCATED: damaged,
    CORRUPT: damaged,
    /** Beyond what the engine is built to read; not the viewer's fault, and not a damaged file. */
    TOO_LARGE: spec(500, "INTERNAL_SERVER_ERROR", 1, "The slide is larger than this service reads."),
    IO_ERROR: spec(500, "INTERNAL_SERVER_ERROR", 1, "The slide could not be read just now; try again."),
    /** Wrong options on the command line (exit 2, as usage errors); over HTTP the options are a tile address, one the slide lacks. */
    INVALID_OPTIONS: spec(404, "BAD_REQUEST", 2, "Not found."),
    /** A level, tile or associated image the slide does not have. */
    NOT_FOUND: spec(404, "NOT_FOUND", 1, "Not found."),
  },
  /** StorageError (packages/storage): the object store. */
  storage: {
    NOT_FOUND: spec(404, "NOT_FOUND", 1, "Not found."),
    /** A key our code built badly: a fault of the caller, never the user's. */
    INVALID_KEY: spec(500, "INTERNAL_SERVER_ERROR", 1, "The object store was asked for an invalid key; report this."),
    IO_ERROR: spec(500, "INTERNAL_SERVER_ERROR", 1, "The object store failed; try again."),
    CONFIG: spec(500, "INTERNAL_SERVER_ERROR", 1, "The object store is not configured correctly; check its settings."),
  },
  /** HubError, UsageError, AuditError (apps/node): the lab node agent and the `pathx` command line. */
  node: {
    /** No answer from the hub (network, DNS, TLS) after the retries. */
    HUB_UNREACHABLE: spec(502, "BAD_GATEWAY", 1, "Cannot reach the hub; the node retries."),
    /** The hub refused the request (4xx): its message says why. */
    HUB_REFUSED: spec(400, "BAD_REQUEST", 1, "The hub refused this request."),
    /** The hub failed (5xx) after the retries. */
    HUB_FAILED: spec(502, "BAD_GATEWAY", 1, "The hub failed to handle this request; the node retries."),
    /** The hub answered in a form, or named a protocol version, this node does not speak. */
    PROTOCOL_MISMATCH: spec(502, "BAD_GATEWAY", 1, "The hub speaks another node protocol: install the node agent of the hub's release."),
    /** The hub's audit checkpoint contradicts a witness this node holds. */
    AUDIT_WITNESS: spec(409, "CONFLICT", 1, "The hub's audit history contradicts this node's witnesses."),
    /** Wrong words on the command line. */
    USAGE: spec(400, "BAD_REQUEST", 2, 'Wrong words on the command line; run "pathx --help".'),
    UNEXPECTED: spec(500, "INTERNAL_SERVER_ERROR", 1, "Unexpected failure."),
  },
} as const satisfies Record<string, Record<string, ErrorSpec>>;

export type ErrorDomain = keyof typeof ERROR_TABLE;
export type ErrorCode<D extends ErrorDomain> = keyof (typeof ERROR_TABLE)[D] & string;

export function errorSpec<D extends ErrorDomain>(domain: D, code: ErrorCode<D>): ErrorSpec {
  return (ERROR_TABLE[domain] as Record<string, ErrorSpec>)[code]!;
}

/** The hub's code behind an HTTP status it answered (each hub code has its own status), if any. */
export function apiCodeOfHttpStatus(status: number): ErrorCode<"api"> | undefined {
  return (Object.keys(ERROR_TABLE.api) as ErrorCode<"api">[]).find((code) => ERROR_TABLE.api[code].http === status);
}

/**
 * The base of every error class with a code from the table: the class names its section, the
 * table gives the code its HTTP status, tRPC code and exit code.
 */
export class CodedError<D extends ErrorDomain> extends Error {
  constructor(
    readonly domain: D,
    readonly code: ErrorCode<D>,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get spec(): ErrorSpec {
    return errorSpec(this.domain, this.code);
  }

  get httpStatus(): number {
    return this.spec.http;
  }

  get trpcCode(): TrpcCode {
    return this.spec.trpc;
  }

  get exitCode(): number {
    return this.spec.exit;
  }
}
