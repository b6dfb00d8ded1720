import { CodedError } from "@pathx/errors";

/** Wrong words on the command line: exit 2 (the error table's USAGE) and point at --help. */
export class UsageError extends CodedError<"node"> {
  override readonly name = "UsageError";
  constructor(message: string) {
    super("node", "USAGE", message);
  }
}
