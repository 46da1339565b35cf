/**
 * DPoP proofs for the benchmark (RFC 9449): a client key per algorithm, its RFC 7638 thumbprint
 * (what the access token's `cnf.jkt` names), and proofs made in bulk, each valid exactly once: its
 * own `jti`, the gateway's `htm`/`htu`, `ath` of the one token, `iat` the second the batch is made.
 *
 * A proof is accepted once (the gateway's replay store) and only for `dpop_proof_lifetime` after
 * its `iat`, so the load cannot cycle through a fixed set: each wrk invocation of a row (warm-up,
 * then every run) reads its own share of proofs in order and never wraps (see
 * `writeProofSequenceScript`). Batches are signed just before the invocations they feed, in child
 * processes on both CPUs (node:crypto, about 30 µs an ES256 proof and 40 µs an Ed25519 one per
 * core): the measured program is idle meanwhile.
 */
import { createHash, generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto';
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeProofSequenceScript } from './wrk.js';

/** JWS algorithms of the benchmark's proofs: ECDSA P-256, and Ed25519 under Kong's name `EdDSA`. */
export type DpopAlg = 'ES256' | 'EdDSA';

export interface DpopKey {
  readonly alg: DpopAlg;
  readonly privateKeyPem: string;
  readonly publicJwk: JsonWebKey;
  /** RFC 7638 SHA-256 thumbprint of the public key, base64url. */
  readonly jkt: string;
  /** The proofs' protected header, base64url: `typ`, `alg`, `jwk`. */
  readonly header: string;
}

/** What one child process signs. */
export interface ProofJob {
  readonly alg: DpopAlg;
  readonly privateKeyPem: string;
  readonly header: string;
  readonly htm: string;
  readonly htu: string;
  readonly ath: string;
  readonly iat: number;
  readonly jtiPrefix: string;
  readonly parts: ReadonlyArray<{ readonly file: string; readonly start: number; readonly count: number }>;
}

export function createDpopKey(alg: DpopAlg): DpopKey {
  const { privateKey, publicKey } = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  // RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace.
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  const jkt = createHash('sha256').update(JSON.stringify(members)).digest('base64url');
  const header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg, jwk: members })).toString('base64url');
  return { alg, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicJwk: members, jkt, header };
}

/** base64url(SHA-256(token)): the proof's `ath`. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}

export interface ProofBatch {
  /** Per segment, the files holding its proofs, to be read in order. */
  readonly files: string[][];
  readonly proofs: number;
  readonly iat: number;
  /** Wall time of the signing. */
  readonly seconds: number;
}

const workerScript = fileURLToPath(new URL('./dpop-proof-worker.js', import.meta.url));

/**
 * Signs `counts[k]` proofs for each segment k, split over `processes` child processes on `cpus`;
 * every proof has a different `jti` (a random batch prefix and the proof's index).
 */
export async function signProofBatch(key: DpopKey, target: { htm: string; htu: string; token: string }, counts: readonly number[], dir: string, options: { processes?: number; cpus?: string } = {}): Promise<ProofBatch> {
  const processes = options.processes ?? 2;
  const jtiPrefix = randomBytes(9).toString('base64url');
  const iat = Math.floor(Date.now() / 1000);
  const files: string[][] = counts.map(() => []);
  const jobs: Array<ProofJob['parts'][number][]> = Array.from({ length: processes }, () => []);
  let start = 0;
  counts.forEach((count, segment) => {
    const share = Math.ceil(count / processes);
    for (let p = 0; p < processes; p++) {
      const n = Math.min(share, count - p * share);
      if (n <= 0) continue;
      const file = join(dir, `proofs-${jtiPrefix}-${segment}-${p}.txt`);
      files[segment]!.push(file);
      jobs[p]!.push({ file, start, count: n });
      start += n;
    }
  });
  const started = process.hrtime.bigint();
  await Promise.all(
    jobs.map(async (parts) => {
      if (parts.length === 0) return;
      const job: ProofJob = { alg: key.alg, privateKeyPem: key.privateKeyPem, header: key.header, htm: target.htm, htu: target.htu, ath: tokenHash(target.token), iat, jtiPrefix, parts };
      const child = spawn('taskset', ['-c', options.cpus ?? '0,1', process.execPath, workerScript], { stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.stdin.end(JSON.stringify(job));
      const code = await exited;
      if (code !== 0 || !out.startsWith('done ')) throw new Error(`DPoP proof signer exited with ${code}: ${out}`);
    }),
  );
  return { files, proofs: start, iat, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** One wrk invocation of a row: how long it runs. */
export interface Segment {
  readonly seconds: number;
}

export interface ProofScheduleStats {
  proofs: number;
  batches: number;
  signingSeconds: number;
  perSegment: number[];
}

/**
 * The proofs of one row: `scriptFor(k)` is the wrk script of segment k. Proofs are signed in
 * batches, the first before segment 0, each covering as many following segments as finish within
 * `budgetSeconds` of its `iat` (so that no proof is used past the gateway's lifetime); with the
 * usual run lengths one batch feeds the whole row. Segment k gets `ceil(rate × seconds) + slack`.
 */
export class ProofSchedule {
  readonly stats: ProofScheduleStats = { proofs: 0, batches: 0, signingSeconds: 0, perSegment: [] };
  readonly #scripts = new Map<number, string>();
  readonly #files: string[] = [];

  constructor(
    private readonly key: DpopKey,
    private readonly target: { htm: string; htu: string; host: string; token: string },
    private readonly segments: readonly Segment[],
    private readonly rate: number,
    private readonly dir: string,
    private readonly budgetSeconds: number,
  ) {
    for (const s of segments) if (s.seconds + 5 > budgetSeconds) throw new Error(`a ${s.seconds} s run does not fit in the ${budgetSeconds} s a DPoP proof may be used; shorten BENCH_DURATION`);
  }

  count(segment: Segment): number {
    return Math.ceil(this.rate * segment.seconds) + 2000;
  }

  async scriptFor(index: number): Promise<string> {
    if (!this.#scripts.has(index)) await this.#batchFrom(index);
    return this.#scripts.get(index)!;
  }

  async #batchFrom(first: number): Promise<void> {
    // Each invocation costs about a second beyond its duration (wrk start, connections, the script's file reads).
    const chosen: number[] = [];
    let elapsed = 0;
    for (let k = first; k < this.segments.length; k++) {
      elapsed += this.segments[k]!.seconds + 1;
      if (chosen.length > 0 && elapsed > this.budgetSeconds) break;
      chosen.push(k);
    }
    const counts = chosen.map((k) => this.count(this.segments[k]!));
    const batch = await signProofBatch(this.key, this.target, counts, this.dir);
    this.stats.batches++;
    this.stats.proofs += batch.proofs;
    this.stats.signingSeconds += batch.seconds;
    this.#files.push(...batch.files.flat());
    for (const [i, k] of chosen.entries()) {
      const file = join(this.dir, `dpop-${this.key.alg}-${k}.lua`);
      await writeProofSequenceScript(file, batch.files[i]!, { Host: this.target.host, Authorization: `DPoP ${this.target.token}` }, 'DPoP');
      this.#scripts.set(k, file);
      this.#files.push(file);
      this.stats.perSegment[k] = counts[i]!;
    }
  }

  /** Deletes the proof files and scripts (a row's proofs are a few hundred MB at full rate). */
  async dispose(): Promise<void> {
    await Promise.all(this.#files.splice(0).map((f) => rm(f, { force: true })));
  }
}
