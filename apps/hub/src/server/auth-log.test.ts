import { describe, expect, it } from "vitest";
import { logAuthError } from "./auth-log";

describe("the sign-in log", () => {
  it("logs a wrong password as one line, without a stack trace or the email", () => {
    const lines: string[] = [];
    // As Auth.js raises it: an error of type CredentialsSignin, with a stack.
    const refused = Object.assign(new Error("Read more at https://errors.authjs.dev#credentialssignin"), { type: "CredentialsSignin" });
    logAuthError(refused, (line) => lines.push(line));
    expect(lines).toEqual(["[auth] sign-in refused: wrong email or password"]);
  });

  it("logs another error as one line with its cause", () => {
    const lines: string[] = [];
    const error = new Error("Read more at https://errors.authjs.dev#callbackrouteerror\n    at somewhere");
    error.name = "CallbackRouteError";
    error.cause = { err: new Error("database is down\n    at query") };
    logAuthError(error, (line) => lines.push(line));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[auth\] CallbackRouteError: .*\(database is down\)$/);
    expect(lines[0]).not.toContain("    at ");
  });
});
