import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { describeFormFailure } from "./form-failure";

describe("describeFormFailure", () => {
  it("names each field an input check refused", () => {
    const parsed = z.object({ email: z.string().email("is not an email address"), name: z.string().min(1, "is empty") }).safeParse({ email: "x", name: "" });
    expect(parsed.success).toBe(false);
    const error = new TRPCError({ code: "BAD_REQUEST", cause: parsed.error });
    expect(describeFormFailure(error)).toBe("Check what you entered: email is not an email address; name is empty");
  });

  it("passes the domain's own message on", () => {
    expect(describeFormFailure(new TRPCError({ code: "CONFLICT", message: "This member is already in the lab." }))).toBe("This member is already in the lab.");
  });

  it("says nothing of an unexpected failure but to try again", () => {
    expect(describeFormFailure(new Error("connection refused at 10.0.0.5:5432"))).toBe("That did not work; try again.");
  });
});
