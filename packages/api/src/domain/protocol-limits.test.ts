import { SLIDE_HEADER_BYTES } from "@pathx/protocol";
import { HEADER_BYTES } from "@pathx/wsi";
import { expect, it } from "vitest";

// The protocol bounds an upload's header by the bytes the engine judges; the two must not drift.
it("the protocol's slide header size is the engine's", () => {
  expect(SLIDE_HEADER_BYTES).toBe(HEADER_BYTES);
});
