/**
 * `npm run bench:profile`: a CPU profile of Portcullis serving scenario 3 (the tutorial pipeline,
 * one warm token), pinned like `npm run bench`, drawn as a flame graph (bench/profile/scenario3.png
 * and .svg) with the top functions by self time (bench/profile/scenario3.md).
 *
 * BENCH_PROFILE_ROUTE=/limited profiles scenario 12 (plain HTTP, key-auth + acl + rate-limiting local):
 * bench/profile/scenario12.*, and /plain scenario 1 (plain HTTP, no plugins) to compare it with. BENCH_PROFILE_ROUTE=/mtls profiles scenario 2 (mTLS, no auth), and with BENCH_PROFILE_NEW_CONNECTIONS=1
 * scenario 5 (a new TLS connection per request, full handshakes, 16 connections): bench/profile/scenario2.* or
 * scenario5.*. The handshake runs in OpenSSL, outside V8's samples: it shows as `(program)`.
 * BENCH_PROFILE_ROUTE=/dpop profiles scenario 8 instead (a DPoP-bound token, a fresh proof per
 * request, BENCH_PROFILE_DPOP_ALG ES256 or EdDSA): bench/profile/dpop-es256.* (or dpop-eddsa.*),
 * with the share of the proof checks, the thumbprint and the replay store, their cost per request,
 * and the CPU of the gateway's threads: jose verifies proofs with WebCrypto, whose signature and
 * digest jobs run on libuv's threadpool, where V8's profiler does not sample.
 * With BENCH_PROFILE_REPLAY=redis the replay cache is on a Redis (redis-server on the load CPU,
 * --redis-url): bench/profile/dpop-es256-redis.*.
 * Environment: BENCH_DURATION (s, default 10), BENCH_DPOP_RATE (req/s the proofs are sized for,
 * default 15000).
 */
import { execFileSync } from 'node:child_process';
import { readdir, readFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareBenchPki } from './lib/bench-pki.js';
import { writeChart } from './lib/chart.js';
import { createDpopKey, ProofSchedule, type DpopAlg } from './lib/dpop-proofs.js';
import { childShare, flameGraphSvg, inclusiveShare, profileWindow, topSelf, type CpuProfile } from './lib/flame-graph.js';
import { BENCH_API_KEY, dpopConfig, scenarioConfig } from './lib/gateway-config.js';
import { startBenchIssuer, type BenchIssuer } from './lib/issuer.js';
import { startPortcullis, type PortcullisProcess } from './lib/portcullis.js';
import { freePorts } from './lib/ports.js';
import { ensureCommands, groupCpuSeconds, startPinned, threadCpuSeconds, waitForOutput } from './lib/processes.js';
import { buildShim, runWrk, useShim } from './lib/wrk.js';
import type { Program } from './lib/processes.js';
import { startNginxUpstream } from './peers/nginx.js';

const outDir = fileURLToPath(new URL('../../bench/profile/', import.meta.url));
const seconds = Number(process.env['BENCH_DURATION'] ?? 10);
/** Route to load: /jwt (scenario 3, default), /mtls (scenario 2) or /dpop (scenario 8). */
const route = process.env['BENCH_PROFILE_ROUTE'] ?? '/jwt';
const dpopAlg = (process.env['BENCH_PROFILE_DPOP_ALG'] ?? 'ES256') as DpopAlg;
/** Where scenario 8's replay cache is: the node's memory (default) or a Redis. */
const replayOnRedis = process.env['BENCH_PROFILE_REPLAY'] === 'redis';
/** Scenario 5's load: `Connection: close`, so every request opens (and handshakes) a new connection. */
const newConnections = process.env['BENCH_PROFILE_NEW_CONNECTIONS'] === '1';
/** Routes that `npm run bench` loads over plain HTTP: /plain (scenario 1) and /limited (scenario 12). */
const plainHttp = route === '/plain' || route === '/limited';
const scenario = route === '/mtls' ? (newConnections ? 'scenario5' : 'scenario2') : route === '/limited' ? 'scenario12' : route === '/plain' ? 'scenario1' : 'scenario3';
const scenarioTitle: Record<string, string> = {
  scenario2: 'scenario 2 (mTLS, no auth, keep-alive)',
  scenario3: 'scenario 3 (mTLS + openid-connect strict, warm token)',
  scenario5: 'scenario 5 (a new mTLS connection per request, full handshake)',
  scenario1: 'scenario 1 (plain HTTP, no plugins)',
  scenario12: 'scenario 12 (plain HTTP, key-auth + acl + rate-limiting local)',
};

async function main(): Promise<void> {
  execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const missing = ensureCommands({ wrk: 'wrk', taskset: 'util-linux', cc: 'gcc', nginx: 'nginx-light', 'rsvg-convert': 'librsvg2-bin' });
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}`);
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-profile-'));
  useShim(buildShim(dir));
  const { clientCert, thumbprint } = await prepareBenchPki(join(dir, 'pki'));
  const issuer = await startBenchIssuer();
  const [upstreamPort] = (await freePorts(1)) as [number];
  const upstream = await startNginxUpstream(join(dir, 'upstream'), '1', upstreamPort);
  const profileDir = join(dir, 'cpuprofile');
  if (route === '/dpop') {
    if (dpopAlg !== 'ES256' && dpopAlg !== 'EdDSA') throw new Error(`BENCH_PROFILE_DPOP_ALG: ES256 or EdDSA, not ${String(dpopAlg)}`);
    let redis: Program | null = null;
    const extraArgs: string[] = [];
    if (replayOnRedis) {
      const [redisPort] = (await freePorts(1)) as [number];
      redis = startPinned('redis', '1', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
      await waitForOutput(redis, /Ready to accept connections/);
      extraArgs.push('--redis-url', `redis://127.0.0.1:${redisPort}`);
    }
    const gateway = await startPortcullis('profiled-dpop', dir, '0', dpopConfig(`http://127.0.0.1:${upstreamPort}`, issuer.url), { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir], extraArgs });
    await profileDpop(gateway, issuer, dir, profileDir, upstream);
    await redis?.stop();
    return;
  }
  const gateway = await startPortcullis('profiled', dir, '0', scenarioConfig(`http://127.0.0.1:${upstreamPort}`, issuer.url), { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] });
  const token = await issuer.sign('RS256', thumbprint);
  const headers = route === '/jwt' ? [`Authorization: Bearer ${token}`] : route === '/limited' ? [`apikey: ${BENCH_API_KEY}`] : newConnections ? ['Connection: close'] : [];
  const url = plainHttp ? `http://127.0.0.1:${gateway.http}${route}` : `https://127.0.0.1:${gateway.https}${route}`;
  const load = { url, connections: newConnections ? 16 : 64, cpus: '1', headers, ...(plainHttp ? {} : { clientCert }), ...(newConnections ? { tlsResume: false } : {}) };
  await runWrk({ ...load, seconds: 2 }, dir);
  const sample = await runWrk({ ...load, seconds }, dir);
  await gateway.program.stop();
  await upstream.stop();
  await issuer.close();
  const file = (await readdir(profileDir)).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error('no .cpuprofile written');
  const profile = JSON.parse(await readFile(join(profileDir, file), 'utf8')) as CpuProfile;
  await mkdir(outDir, { recursive: true });
  const title = `Portcullis, ${scenarioTitle[scenario]}, ${sample.rps.toFixed(0)} req/s under --cpu-prof, ${new Date().toISOString().slice(0, 10)}`;
  await writeChart(join(outDir, `${scenario}.svg`), join(outDir, `${scenario}.png`), flameGraphSvg(profile, title));
  const shares: Array<[string, RegExp]> = [
    ['TLS: socket reads/writes, encryption (node:_tls_wrap, node:net, stream internals)', /^(onStreamRead|writeGeneric|writevGeneric|_writeGeneric|Socket\._writeGeneric|onStreamRead node:|TLSSocket\.) |node:_tls_wrap|node:internal\/stream_base_commons/],
    ['HTTP parsing and response writing (node:_http_*)', /node:_http_(server|common|outgoing|incoming)/],
    ['upstream client (undici)', /^[^ ]* undici\//],
    ['openid-connect plugin (src/plugins/openid-connect)', /plugins\/openid-connect\//],
    ['key-auth, acl, rate-limiting plugins and the local counters (src/plugins/{key-auth,acl,rate-limiting}, src/state/rate-counters)', /plugins\/(key-auth|acl|rate-limiting)\/|state\/rate-counters/],
    ['plugin phases (src/pipeline)', /^[^ ]* src\/pipeline\//],
    ['connection set-up in JavaScript (the connection listener, TLSSocket construction, onhandshakedone, the certificate)', /^(onconnection|Server\.connectionListener|tlsConnectionListener|TLSSocket|onhandshakedone|onhandshakestart|_finishInit|getPeerCertificate|getPeerX509Certificate) /],
    ['Portcullis listeners and connection facts (src/server, src/connection; with a new connection this includes the handshake below, which OpenSSL resumes under the SNI callback)', /^[^ ]* src\/(server|connection)\//],
    ['OpenSSL handshake resumed after the certificate callback (requestOCSPDone: signature, key exchange, client certificate check)', /^requestOCSPDone /],
    ['native, outside V8 (OpenSSL handshake and record layer, syscalls)', /^\(program\)/],
    ['garbage collector', /^\(garbage collector\)/],
    ['idle', /^\(idle\)/],
  ];
  const lines = [
    `# CPU profile: ${scenarioTitle[scenario]}`,
    '',
    title + '.',
    '',
    `![flame graph](${scenario}.png)`,
    '',
    '| where (inclusive) | share of samples |',
    '|---|---|',
    ...shares.map(([label, re]) => `| ${label} | ${(100 * inclusiveShare(profile, re)).toFixed(1)}% |`),
    '',
    '| top functions by self time | share |',
    '|---|---|',
    ...topSelf(profile, 25).map(([name, share]) => `| \`${name.replace(/\|/g, '\\|')}\` | ${(100 * share).toFixed(1)}% |`),
    '',
  ];
  await writeFile(join(outDir, `${scenario}.md`), lines.join('\n'));
  console.log(lines.join('\n'));
}

/** Scenario 8 under the profiler: warm-up and one measured run, each with its own proofs. */
async function profileDpop(gateway: PortcullisProcess, issuer: BenchIssuer, dir: string, profileDir: string, upstream: Program): Promise<void> {
  const key = createDpopKey(dpopAlg);
  const token = await issuer.sign('RS256', { jkt: key.jkt });
  const host = `127.0.0.1:${gateway.https}`;
  const rate = Number(process.env['BENCH_DPOP_RATE'] ?? 15_000);
  const schedule = new ProofSchedule(key, { htm: 'GET', htu: `https://${host}/dpop`, host, token }, [{ seconds: 2 }, { seconds }], rate, dir, 240);
  const load = { url: `https://${host}/dpop`, connections: 64, cpus: '1' };
  const warmScript = await schedule.scriptFor(0);
  const measuredScript = await schedule.scriptFor(1);
  const warm = await runWrk({ ...load, script: warmScript, seconds: 2 }, dir);
  const pid = gateway.program.child.pid!;
  const threadsBefore = threadCpuSeconds(pid);
  const processBefore = groupCpuSeconds(pid);
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const sample = await runWrk({ ...load, script: measuredScript, seconds }, dir);
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const processSeconds = groupCpuSeconds(pid) - processBefore;
  const threadsAfter = threadCpuSeconds(pid);
  await gateway.program.stop();
  await upstream.stop();
  await issuer.close();
  await schedule.dispose();
  const non2xx = warm.non2xx + sample.non2xx;
  const file = (await readdir(profileDir)).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error('no .cpuprofile written');
  // The measured run only: no start-up, no proof signing, no warm-up.
  const profile = profileWindow(JSON.parse(await readFile(join(profileDir, file), 'utf8')) as CpuProfile, fromUs, toUs);
  await mkdir(outDir, { recursive: true });
  const name = `dpop-${dpopAlg.toLowerCase()}${replayOnRedis ? '-redis' : ''}`;
  const algLabel = dpopAlg === 'EdDSA' ? 'Ed25519 (EdDSA)' : dpopAlg;
  const title = `Portcullis, scenario 8 (DPoP strict, ${algLabel} proof per request, warm RS256 token), ${sample.rps.toFixed(0)} req/s under --cpu-prof, ${new Date().toISOString().slice(0, 10)}`;
  await writeChart(join(outDir, `${name}.svg`), join(outDir, `${name}.png`), flameGraphSvg(profile, title));

  // The gateway owns its core: its busy samples (main thread not idle) cover all of its CPU, the
  // threadpool's included (a WebCrypto job that wakes a pool thread preempts the main thread, and
  // the sample lands on the JS frame that started it). So a share of the busy samples is a share
  // of the process's CPU, and × its CPU per request gives µs per request.
  const busy = 1 - inclusiveShare(profile, /^\(idle\)/);
  const processUsPerRequest = (1e6 * processSeconds) / sample.requests;
  const dpopAll = inclusiveShare(profile, /^[^ ]* (src\/plugins\/openid-connect\/dpop-binding|src\/dpop\/|src\/state\/replay-cache|jose\/)/);
  // Before the proof-key cache (jose's EmbeddedJWK + jwtVerify), Node's WebCrypto entry points: disjoint (jose's
  // verifySignature calls the key resolver, EmbeddedJWK, itself). Since (src/dpop/proof-key.ts), node:crypto
  // on a cached KeyObject: verifySignature, importProofKey (cache misses only), jwkThumbprint.
  const signature = inclusiveShare(profile, /^(verify node:internal\/crypto\/webcrypto|verifySignature src\/(dpop\/proof-key|util\/jws-algorithms)\.js)/);
  const jwkImport = inclusiveShare(profile, /^(importKey node:internal\/crypto\/webcrypto|importProofKey src\/dpop\/proof-key\.js)/);
  const thumbprint = inclusiveShare(profile, /^(calculateJwkThumbprint jose\/|jwkThumbprint src\/dpop\/proof-key\.js)/);
  const header = inclusiveShare(profile, /^decodeProtectedHeader jose\//);
  const payload = inclusiveShare(profile, /^(validateClaimsSet jose\/|claimsSet src\/dpop\/proof\.js)/);
  const ath = inclusiveShare(profile, /^accessTokenHash src\/dpop\/proof\.js/);
  const replayStore = inclusiveShare(profile, /src\/state\/replay-cache\.js/);
  const replayKey = childShare(profile, /^check src\/plugins\/openid-connect\/dpop-binding\.js/, /^(createHash|Hash|update|digest) node:internal\/crypto\/hash/);
  const htu = inclusiveShare(profile, /src\/dpop\/htu\.js/);
  const shares: Array<[string, number]> = [
    ['DPoP, all of it (DpopBinding.check with everything it calls, and jose continuations)', dpopAll],
    ['· proof signature (crypto.subtle.verify with the pool thread; since the key cache: node:crypto verify)', signature],
    ['· proof key import (crypto.subtle.importKey of the jwk from jose EmbeddedJWK, every proof; since the key cache: createPublicKey on a miss)', jwkImport],
    ['· thumbprint of the proof key (jose calculateJwkThumbprint: crypto.subtle.digest; since: createHash)', thumbprint],
    ['· protected header (jose decodeProtectedHeader)', header],
    ['· payload (base64url, strict UTF-8, JSON.parse)', payload],
    ['· ath (SHA-256 of the token)', ath],
    ['· replay store (MemoryReplayCache.claim/claimNow, sweep)', replayStore],
    ['· replay key (SHA-256 of jkt and jti in DpopBinding.check)', replayKey],
    ['· htu (requestHtu, normaliseHtu)', htu],
    ['· the rest (compact JWS check, jwk and claim checks, the binding, promises)', dpopAll - signature - jwkImport - thumbprint - header - payload - ath - replayStore - replayKey - htu],
    ['openid-connect plugin, all of it (src/plugins/openid-connect)', inclusiveShare(profile, /plugins\/openid-connect\//)],
    ['TLS: socket reads/writes, encryption (node:_tls_wrap, node:net, stream internals)', inclusiveShare(profile, /^(onStreamRead|writeGeneric|writevGeneric|_writeGeneric|Socket\._writeGeneric|onStreamRead node:|TLSSocket\.) |node:_tls_wrap|node:internal\/stream_base_commons/)],
    ['HTTP parsing and response writing (node:_http_*)', inclusiveShare(profile, /node:_http_(server|common|outgoing|incoming)/)],
    ['upstream client (undici)', inclusiveShare(profile, /^[^ ]* undici\//)],
    ['garbage collector', inclusiveShare(profile, /^\(garbage collector\)/)],
    ['idle', inclusiveShare(profile, /^\(idle\)/)],
  ];
  const us = (share: number): string => (busy > 0 ? ((share / busy) * processUsPerRequest).toFixed(1) : '—');
  const pct = (share: number): string => (busy > 0 ? `${((100 * share) / busy).toFixed(1)}%` : '—');
  const threads = Object.keys(threadsAfter)
    .map((t) => [t, (threadsAfter[t] ?? 0) - (threadsBefore[t] ?? 0)] as const)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1]);
  const lines = [
    `# CPU profile: scenario 8 (DPoP, ${algLabel})`,
    '',
    title + '.',
    '',
    `${sample.requests.toLocaleString('en')} requests in the measured ${seconds} s run (the only samples below: ${(profile.samples ?? []).length.toLocaleString('en')}), ${warm.requests.toLocaleString('en')} in the 2 s warm-up before it; ${non2xx} non-2xx${non2xx > 0 ? ' (**the profile is not of successful requests only**)' : ''}; ${schedule.stats.proofs.toLocaleString('en')} proofs signed in ${schedule.stats.signingSeconds.toFixed(1)} s. The gateway process used ${processSeconds.toFixed(2)} s of CPU in the measured run: **${processUsPerRequest.toFixed(1)} µs per request** (all threads, under the profiler).`,
    '',
    `![flame graph](${name}.png)`,
    '',
    `% of the process CPU = share of the samples ÷ the busy (not idle) share, ${(100 * busy).toFixed(1)}%: the gateway is alone on its core, so its busy samples span all its threads (a pool thread running a WebCrypto job preempts the main thread, and the sample lands on the JS frame that started the job: \`jobPromise\` in node:internal/crypto/util). µs per request = that × the process CPU per request.`,
    '',
    '| where (inclusive) | share of samples | % of the process CPU | µs per request |',
    '|---|---|---|---|',
    ...shares.map(([label, share]) => `| ${label} | ${(100 * share).toFixed(1)}% | ${label === 'idle' ? '—' : pct(share)} | ${label === 'idle' ? '—' : us(share)} |`),
    '',
    'Threads of the gateway in the measured run (`/proc/<pid>/task`): the other threads are mostly the libuv pool running the WebCrypto jobs jose starts (`crypto.subtle.verify` of the proof signature, `crypto.subtle.digest` of the thumbprint), and V8\'s helpers.',
    '',
    '| thread | CPU s | µs per request | % of the process CPU |',
    '|---|---|---|---|',
    ...threads.map(([t, v]) => `| ${t} | ${v.toFixed(2)} | ${((1e6 * v) / sample.requests).toFixed(1)} | ${((100 * v) / processSeconds).toFixed(1)}% |`),
    '',
    '| top functions by self time | share |',
    '|---|---|',
    ...topSelf(profile, 25).map(([n, share]) => `| \`${n.replace(/\|/g, '\\|')}\` | ${(100 * share).toFixed(1)}% |`),
    '',
  ];
  await writeFile(join(outDir, `${name}.md`), lines.join('\n'));
  console.log(lines.join('\n'));
  if (non2xx > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
