/**
 * For a failure that repeats on every request or every timer tick (a datastore down): whether it
 * is time to log it again, at most once per `intervalMs`. The first call always is.
 */
export function logThrottle(intervalMs: number, now: () => number = Date.now): () => boolean {
  let last = -Infinity;
  return () => {
    const at = now();
    if (at - last < intervalMs) return false;
    last = at;
    return true;
  };
}
