import { describe, expect, it } from "vitest";
import { readPagesAhead } from "./read-pages-ahead";

/** A chain held in memory, read as the database answers: up to `limit` sequence numbers after `after`, in order. */
function chainOf(seqs: number[]) {
  const asked: number[] = [];
  const readPage = async (after: number, limit: number) => {
    asked.push(after);
    await new Promise((r) => setTimeout(r, 1));
    return seqs.filter((s) => s > after).slice(0, limit);
  };
  return { asked, readPage };
}

async function collect(seqs: number[], pageSize: number, ahead?: number) {
  const chain = chainOf(seqs);
  const pages: number[][] = [];
  for await (const page of readPagesAhead(
    (after) => chain.readPage(after, pageSize),
    (s) => s,
    pageSize,
    ahead,
  ))
    pages.push(page);
  return { pages, asked: chain.asked };
}

/** What reading one page after another gives. */
function oneByOne(seqs: number[], pageSize: number) {
  const pages: number[][] = [];
  for (let after = 0; ; ) {
    const page = seqs.filter((s) => s > after).slice(0, pageSize);
    pages.push(page);
    if (page.length < pageSize) return pages;
    after = page[page.length - 1]!;
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("readPagesAhead", () => {
  it("gives the pages of reading one after another, for whole, short, gapped and empty chains", async () => {
    const chains = [range(1, 20), range(1, 23), [], [1, 2, 3], [...range(1, 3), ...range(5, 8), ...range(20, 31)], [...range(1, 4), ...range(14, 15)]];
    for (const seqs of chains)
      for (const [size, ahead] of [
        [4, 2],
        [5, 1],
        [3, 0],
        [1, 3],
      ] as const)
        expect((await collect(seqs, size, ahead)).pages).toEqual(oneByOne(seqs, size));
  });

  it("asks for the next pages before the current one is read, and once each", async () => {
    const { asked } = await collect(range(1, 12), 4, 2);
    expect(asked.slice(0, 3)).toEqual([0, 4, 8]);
    expect(new Set(asked).size).toBe(asked.length);
  });

  it("stops asking when the reader stops, once the pages read ahead have settled; a failed one is not left unhandled", async () => {
    let calls = 0;
    let settled = 0;
    const readPage = async (after: number) => {
      calls++;
      await new Promise((r) => setTimeout(r, after));
      settled++;
      if (after > 0) throw new Error("hub gone");
      return range(1, 4);
    };
    for await (const page of readPagesAhead(readPage, (s) => s, 4, 2)) {
      expect(page).toEqual(range(1, 4));
      break;
    }
    expect(settled).toBe(3);
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(3);
  });

  it("passes on the failure of a page it needs", async () => {
    const readPage = async (after: number) => {
      if (after === 4) throw new Error("hub gone");
      return range(after + 1, after + 4);
    };
    const read = async () => {
      for await (const _ of readPagesAhead(readPage, (s) => s, 4)) {
      }
    };
    await expect(read()).rejects.toThrow("hub gone");
  });
});
