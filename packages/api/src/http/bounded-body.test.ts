import { expect, it } from "vitest";
import { ApiError } from "../errors";
import { readBoundedBody, readBoundedJson } from "./bounded-body";

const post = (body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
  new Request("http://hub.test/x", { method: "POST", body, headers, duplex: "half" } as RequestInit);

/** A chunked body (no Content-Length) that counts what was pulled from it. */
function streamed(chunks: number, size: number) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled === chunks) return controller.close();
      seen.pulled++;
      controller.enqueue(new Uint8Array(size));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { stream, seen };
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "ok",
    (error: unknown) => (error instanceof ApiError ? error.code : String(error)),
  );

it("returns a body within the limit", async () => {
  expect(Buffer.from(await readBoundedBody(post("hello"), { limit: 5, timeoutMs: 1000 })).toString()).toBe("hello");
  expect(await readBoundedJson(post('{"a":1}'), { limit: 100, timeoutMs: 1000 })).toEqual({ a: 1 });
  expect(await codeOf(readBoundedJson(post("{nope"), { limit: 100, timeoutMs: 1000 }))).toBe("BAD_REQUEST");
});

it("refuses a declared Content-Length over the limit before reading anything", async () => {
  const { stream, seen } = streamed(1000, 1024);
  expect(await codeOf(readBoundedBody(post(stream, { "content-length": String(1024 * 1000) }), { limit: 4096, timeoutMs: 1000 }))).toBe("TOO_LARGE");
  expect(seen.pulled).toBeLessThanOrEqual(1);
});

it("counts a chunked body while it streams and stops reading once past the limit", async () => {
  const { stream, seen } = streamed(100_000, 64 * 1024); // 6.4 GB if read to the end
  expect(await codeOf(readBoundedBody(post(stream), { limit: 1024 * 1024, timeoutMs: 10_000 }))).toBe("TOO_LARGE");
  expect(seen.cancelled).toBe(true);
  expect(seen.pulled).toBeLessThan(40);
});

it("ends a body that does not arrive in time", async () => {
  // Ten bytes of a declared 10 MB, then nothing.
  const stream = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new Uint8Array(10)) });
  expect(await codeOf(readBoundedBody(post(stream, { "content-length": String(10 * 1024 * 1024) }), { limit: 20 * 1024 * 1024, timeoutMs: 200 }))).toBe(
    "TIMEOUT",
  );
});
