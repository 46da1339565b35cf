// The short form of the load-and-soak run (soak-run.ts) for `npm test`: 20 s of steady load with a
// new token every 5 s (tokens live 8 s, so the churn is needed), then a 5 s flood of invalid tokens
// and new TLS handshakes beside four valid clients. `npm run soak` runs the same for minutes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSoakReport, runSoak, soakChecks, type SoakOptions } from './soak-run.js';

const shortSoakOptions: SoakOptions = {
  label: 'npm test, short form',
  warmupSeconds: 3,
  steadySeconds: 20,
  rate: 400,
  connections: 24,
  tokenTtlSeconds: 8,
  churnSeconds: 5,
  refreshBeforeExpirySeconds: 2,
  sampleEverySeconds: 5,
  validClients: 4,
  validIntervalMs: 20,
  baselineSeconds: 3,
  floodSeconds: 5,
  afterFloodSeconds: 2,
  floodTokenConnections: 16,
  floodHandshakeConcurrency: 8,
  limits: { rssFactor: 1.5, rssSlackMiB: 20, fdSlack: 8, validP99Ms: 1000, minFloodRequestsPerSecond: 20 },
};

describe('soak (short form): steady load with token churn, then a flood', () => {
  // The gateway's RSS and fds are read from Linux's /proc.
  const skip = process.platform === 'linux' ? false : 'reads /proc (Linux only)';
  it('keeps the gateway flat, error-free and responsive', { timeout: 120_000, skip }, async (t) => {
    const result = await runSoak(shortSoakOptions);
    const checks = soakChecks(result);
    const report = formatSoakReport(result, checks);
    for (const line of report.split('\n')) t.diagnostic(line);
    assert.deepEqual(
      checks.filter((c) => !c.ok).map((c) => c.message),
      [],
      report,
    );
  });
});
