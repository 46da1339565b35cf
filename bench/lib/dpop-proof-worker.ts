/**
 * Child process of `dpop-proofs.ts`: signs a share of a batch of DPoP proofs with node:crypto
 * (synchronous, no JOSE library) and writes them one per line. Its job arrives as JSON on stdin;
 * it prints `done <proofs>` when every file is written.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { ProofJob } from './dpop-proofs.js';

function signAll(job: ProofJob): number {
  const key = createPrivateKey(job.privateKeyPem);
  const ec = job.alg === 'ES256';
  const signingKey = ec ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
  const digest = ec ? 'sha256' : null;
  // The payload in the order RFC 9449 §4.2 lists it; only `jti` changes from one proof to the next.
  const head = `{"jti":"`;
  const tail = `","htm":${JSON.stringify(job.htm)},"htu":${JSON.stringify(job.htu)},"iat":${job.iat},"ath":${JSON.stringify(job.ath)}}`;
  let total = 0;
  for (const part of job.parts) {
    const lines: string[] = new Array<string>(part.count);
    for (let i = 0; i < part.count; i++) {
      const input = `${job.header}.${Buffer.from(`${head}${job.jtiPrefix}.${part.start + i}${tail}`).toString('base64url')}`;
      lines[i] = `${input}.${sign(digest, Buffer.from(input), signingKey).toString('base64url')}`;
    }
    writeFileSync(part.file, lines.join('\n') + '\n');
    total += part.count;
  }
  return total;
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => (input += chunk));
process.stdin.on('end', () => {
  const count = signAll(JSON.parse(input) as ProofJob);
  process.stdout.write(`done ${count}\n`);
});
