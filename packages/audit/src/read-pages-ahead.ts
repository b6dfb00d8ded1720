/**
 * A chain's pages in sequence order, each one asked for with the previous page's last sequence
 * number (`readPage(after)` gives up to `pageSize` entries after it), so what is returned is
 * exactly what reading one page after another gives. Meanwhile the next `ahead` pages are asked
 * for on the guess that the chain has no gap (page `after` ends at `after + pageSize`), so the
 * database (or the hub) builds them while the caller checks this one. A guess that turns out
 * wrong (a gap, a short page) is thrown away unread; the stop is the first short page. Pages
 * read ahead have settled by the time the loop over the pages ends.
 */
export async function* readPagesAhead<T>(
  readPage: (after: number) => Promise<T[]>,
  seqOf: (entry: T) => number,
  pageSize: number,
  ahead = 2,
): AsyncGenerator<T[], void, undefined> {
  const asked = new Map<number, Promise<T[]>>();
  const ask = (after: number) => {
    let page = asked.get(after);
    if (!page) {
      page = readPage(after);
      // A page read ahead and then not needed must not fail the process unobserved.
      page.catch(() => {});
      asked.set(after, page);
    }
    return page;
  };
  let after = 0;
  try {
    for (;;) {
      const current = ask(after);
      for (let k = 1; k <= ahead; k++) ask(after + k * pageSize);
      const page = await current;
      asked.delete(after);
      yield page;
      if (page.length < pageSize) return;
      after = seqOf(page[page.length - 1]!);
      for (const guess of asked.keys()) if (guess < after || (guess - after) % pageSize !== 0) asked.delete(guess);
    }
  } finally {
    // Pages still being read when the caller stops (a broken link, the chain's end) are waited
    // for, so none is left running against a database the caller may close next.
    await Promise.allSettled(asked.values());
    asked.clear();
  }
}
