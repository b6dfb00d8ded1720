/**
 * Something that grows while a test waits (a process's output, a stream's events): `until`
 * resolves once `find` sees what it wants, checking what is there already first.
 */
export function createWatch() {
  const waiters = new Set<() => void>();
  return {
    /** Call after each growth. */
    changed() {
      for (const waiter of [...waiters]) waiter();
    },
    until<T>(find: () => T | null | undefined, seconds: number, failure: () => string): Promise<T> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(failure()));
        }, seconds * 1000);
        const check = () => {
          const found = find();
          if (found === null || found === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        check();
      });
    },
  };
}
