/**
 * Indexes entries so a request only looks at the entries whose host and prefix path can match it.
 *
 * Entries go into buckets by host: one per exact host, one per `*.suffix`, one per `prefix.*`,
 * one for entries without hosts, and one for wildcards of any other shape (always consulted).
 * Inside a bucket, prefix entries are kept by prefix length then prefix string, so a request costs
 * one map look-up per distinct prefix length, not one test per route; regex and path-less entries
 * form a list sorted by rank. Every list is sorted by rank, and the router merges them lazily, so
 * entries are evaluated in exact global priority order and evaluation stops at the first match.
 */
import type { RouteEntry } from './compile-route.js';
import type { RouteMatch } from './types.js';

/**
 * An entry as found in one bucket: its rank copied in, its result made once (unless its path is a
 * regex still to be run), and which attributes remain to check. A candidate found in a host bucket
 * needs no host check when the host that put it there has no port.
 */
export class Candidate {
  readonly rank: number;
  readonly result: RouteMatch | null;
  readonly checkHosts: boolean;
  /** Anything but the path left to check: hosts (see above), methods, SNIs, headers. */
  readonly checkAttributes: boolean;

  constructor(
    readonly entry: RouteEntry,
    matchedPath: string | null,
    hostImplied: boolean,
  ) {
    this.rank = entry.rank;
    this.result = matchedPath === null ? null : Object.freeze({ kind: 'route', route: entry.route, matchedPath });
    this.checkHosts = entry.hosts !== null && !hostImplied;
    this.checkAttributes = this.checkHosts || entry.methods !== null || entry.snis !== null || entry.headers !== null;
  }
}

const byRank = (a: Candidate, b: Candidate): number => a.rank - b.rank;

class Bucket {
  /** Prefix length → prefix → candidates sorted by rank. */
  private readonly byLength = new Map<number, Map<string, Candidate[]>>();
  /** Distinct prefix lengths, longest first. */
  private lengths: number[] = [];
  /** Regex and path-less entries, sorted by rank. */
  private readonly others: Candidate[] = [];
  private readonly seen = new Set<RouteEntry>();

  /** `hostImplied`: every request looking in this bucket has a host the entry accepts. */
  add(entry: RouteEntry, hostImplied: boolean): void {
    if (this.seen.has(entry)) return; // `hosts: [a.com, a.com]` must not list an entry twice
    this.seen.add(entry);
    if (entry.prefixes === null) {
      this.others.push(new Candidate(entry, entry.regexes === null ? '' : null, hostImplied));
      return;
    }
    for (const prefix of entry.prefixes) {
      let byPrefix = this.byLength.get(prefix.length);
      if (byPrefix === undefined) this.byLength.set(prefix.length, (byPrefix = new Map<string, Candidate[]>()));
      const list = byPrefix.get(prefix);
      if (list === undefined) byPrefix.set(prefix, [new Candidate(entry, prefix, hostImplied)]);
      else list.push(new Candidate(entry, prefix, hostImplied));
    }
  }

  seal(): void {
    this.others.sort(byRank);
    for (const byPrefix of this.byLength.values()) for (const list of byPrefix.values()) list.sort(byRank);
    this.lengths = [...this.byLength.keys()].sort((a, b) => b - a);
    this.seen.clear();
  }

  /** Pushes every non-empty candidate list this bucket holds for `path`. */
  collect(path: string, out: Array<readonly Candidate[]>): void {
    if (this.others.length > 0) out.push(this.others);
    for (const length of this.lengths) {
      if (length > path.length) continue;
      const list = this.byLength.get(length)?.get(path.slice(0, length));
      if (list !== undefined) out.push(list);
    }
  }
}

function bucketOf(map: Map<string, Bucket>, key: string): Bucket {
  let bucket = map.get(key);
  if (bucket === undefined) map.set(key, (bucket = new Bucket()));
  return bucket;
}

export class RouteIndex {
  private readonly exact = new Map<string, Bucket>();
  /** `*.example.com` keyed by `.example.com`. */
  private readonly suffixes = new Map<string, Bucket>();
  /** `example.*` keyed by `example.`. */
  private readonly prefixes = new Map<string, Bucket>();
  private readonly noHost = new Bucket();
  /** Wildcards not cut at a dot (`*example.com`, `*`): consulted for every request. */
  private readonly oddWildcards = new Bucket();

  constructor(entries: readonly RouteEntry[]) {
    for (const entry of entries) {
      if (entry.hosts === null) {
        this.noHost.add(entry, false);
        continue;
      }
      for (const host of entry.hosts) {
        const implied = host.port === null;
        if (host.kind === 'exact') bucketOf(this.exact, host.value).add(entry, implied);
        else if (host.kind === 'suffix' && host.value.startsWith('.')) bucketOf(this.suffixes, host.value).add(entry, implied);
        else if (host.kind === 'prefix' && host.value.endsWith('.')) bucketOf(this.prefixes, host.value).add(entry, implied);
        else this.oddWildcards.add(entry, false);
      }
    }
    for (const bucket of [...this.exact.values(), ...this.suffixes.values(), ...this.prefixes.values()]) bucket.seal();
    this.noHost.seal();
    this.oddWildcards.seal();
  }

  /** The candidate lists for a request, each sorted by rank; an entry may appear in more than one. */
  candidates(host: string, path: string): Array<readonly Candidate[]> {
    const out: Array<readonly Candidate[]> = [];
    this.exact.get(host)?.collect(path, out);
    if (this.suffixes.size > 0 || this.prefixes.size > 0) {
      for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
        this.suffixes.get(host.slice(dot))?.collect(path, out);
        this.prefixes.get(host.slice(0, dot + 1))?.collect(path, out);
      }
    }
    this.oddWildcards.collect(path, out);
    this.noHost.collect(path, out);
    return out;
  }
}
