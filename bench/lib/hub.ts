/** Polls a URL until it answers below 500; throws after `seconds`, or as soon as `gone` settles. */
export async function waitFor(url: string, seconds: number, gone?: Promise<unknown>) {
  let exited = false;
  void gone?.then(() => (exited = true));
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    if (exited) throw new Error(`the process serving ${url} exited before it answered`);
    if (
      await fetch(url).then(
        (r) => r.status < 500,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not answer within ${seconds} s`);
}
