// `npm run soak`: the long form of the load-and-soak run (see soak-run.ts), bounded in time, on
// loopback. Prints a Markdown report on stdout (progress on stderr) and exits 1 when a check fails
// (2 when the run itself could not be done). The npm script sends node:test's reporter to /dev/null:
// the test helpers import node:test (for their clean-up hook), which would otherwise print an empty
// TAP summary.
//   SOAK_SECONDS        steady load after warm-up (default 600)
//   SOAK_RATE           target requests per second of the steady load (default 1000)
//   SOAK_CONNECTIONS    keep-alive connections of the steady load (default 24)
//   SOAK_FLOOD_SECONDS  flood duration (default 60)
import { formatSoakReport, runSoak, soakChecks, type SoakOptions } from './soak-run.js';

function numberFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number, got '${text}'`);
  return value;
}

export const longSoakOptions = (): SoakOptions => ({
  label: 'npm run soak',
  warmupSeconds: 15,
  steadySeconds: numberFromEnv('SOAK_SECONDS', 600),
  rate: numberFromEnv('SOAK_RATE', 1000),
  connections: numberFromEnv('SOAK_CONNECTIONS', 24),
  // Keycloak's master realm: 60 s tokens; the client fetches a new one every 60 s, or 2 s before the current one expires.
  tokenTtlSeconds: 60,
  churnSeconds: 60,
  refreshBeforeExpirySeconds: 2,
  sampleEverySeconds: 10,
  validClients: 4,
  validIntervalMs: 20,
  baselineSeconds: 15,
  floodSeconds: numberFromEnv('SOAK_FLOOD_SECONDS', 60),
  afterFloodSeconds: 10,
  floodTokenConnections: 16,
  floodHandshakeConcurrency: 8,
  limits: { rssFactor: 1.5, rssSlackMiB: 20, fdSlack: 8, validP99Ms: 1000, minFloodRequestsPerSecond: 20 },
  progress: (line) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`),
});

async function main(): Promise<number> {
  const result = await runSoak(longSoakOptions());
  const checks = soakChecks(result);
  console.log(formatSoakReport(result, checks));
  return checks.every((c) => c.ok) ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 2;
  },
);
