import { describe, expect, it } from "vitest";
import { sessionCookieOf } from "./session-cookie";

const cookie = (value: string) => new Headers({ cookie: value });

describe("sessionCookieOf", () => {
  it("finds the Auth.js session cookie among others, plain, __Secure- or chunked", () => {
    expect(sessionCookieOf(cookie("theme=dark; authjs.session-token=abc.def; other=1"))).toBe("authjs.session-token=abc.def");
    expect(sessionCookieOf(cookie("__Secure-authjs.session-token=xyz"))).toBe("__Secure-authjs.session-token=xyz");
    expect(sessionCookieOf(cookie("authjs.session-token.0=part0; authjs.session-token.1=part1"))).toBe("authjs.session-token.0=part0");
  });

  it("finds none without one, or when another cookie only ends with the name", () => {
    expect(sessionCookieOf(new Headers())).toBeUndefined();
    expect(sessionCookieOf(cookie("authjs.csrf-token=abc"))).toBeUndefined();
    expect(sessionCookieOf(cookie("xauthjs.session-token=forged"))).toBeUndefined();
  });
});
