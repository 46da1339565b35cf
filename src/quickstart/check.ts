// `portcullis quickstart --check`: the tutorial's last steps, run against the running quickstart —
// a token from the IdP with the client certificate, then the gateway with and without it — each
// judged by its status, its `WWW-Authenticate` and the reason code the gateway recorded.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { decodeJwt } from 'jose';
import type { AccessRecord } from '../server/access-log.js';
import { generateClientKey, makeProof } from '../dpop/client-key.js';
import { devClientSecret } from '../idp/clients.js';
import { httpsCall, type HttpsAnswer } from './https-call.js';
import { dpopPath } from './tutorial-config.js';
import type { Quickstart } from './start-quickstart.js';

export interface CheckResult {
  readonly name: string;
  readonly passed: boolean;
  readonly detail: string;
}

/** The checks, in the order they run; names are what the PASS/FAIL lines say. */
export const checkNames = {
  token: 'token issued and bound',
  withCertificate: '200 with the certificate',
  withoutCertificate: '401 without the certificate',
  otherCertificate: "401 with another client's certificate",
  withoutToken: '401 without token',
  dpopToken: 'DPoP token issued and bound',
  dpopFresh: '200 with a fresh DPoP proof',
  dpopReplayed: '401 for the same proof replayed',
  dpopWithoutProof: '401 without a proof',
  dpopAsBearer: '401 for the DPoP token sent as Bearer',
  dpopMetadata: 'protected resource metadata',
} as const;

interface Credential {
  readonly cert: string;
  readonly key: string;
}

interface GatewayExpectation {
  readonly status: number;
  readonly reason: string;
  /** What `WWW-Authenticate` must look like (absent when undefined). */
  readonly challenge?: RegExp;
}

/** `cnf."x5t#S256"` of a JWT's payload, or a description of why there is none. */
function boundThumbprint(token: string): { thumbprint: string } | { problem: string } {
  if (token.split('.').length !== 3) return { problem: 'the access token is not a JWT' };
  const claims = claimsOf(token);
  if (claims === null) return { problem: 'the access token payload is not JSON' };
  const thumbprint = claims.cnf?.['x5t#S256'];
  return typeof thumbprint === 'string' ? { thumbprint } : { problem: 'the access token has no cnf."x5t#S256": it is not bound to a certificate' };
}

function header(answer: HttpsAnswer, name: string): string | undefined {
  const value = answer.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Runs the checks; never throws for a failed step (it becomes a FAIL line). */
export async function runQuickstartChecks(q: Quickstart): Promise<CheckResult[]> {
  const [caPem, clientCert, clientKey, otherCert, otherKey] = await Promise.all(
    [q.pki.caPath, q.pki.clientCertPath, q.pki.clientKeyPath, q.pki.otherClientCertPath, q.pki.otherClientKeyPath].map((p) => readFile(p, 'utf8')),
  );
  const ca = caPem ?? '';
  const client: Credential = { cert: clientCert ?? '', key: clientKey ?? '' };
  const other: Credential = { cert: otherCert ?? '', key: otherKey ?? '' };
  const results: CheckResult[] = [];

  // 1. The tutorial's token request: client_credentials for `kong`, authenticated by client.crt.
  let token: string | null = null;
  try {
    const answer = await httpsCall({
      url: q.idp.endpoints.token,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'kong', grant_type: 'client_credentials' }).toString(),
      ca,
      client,
    });
    const body = JSON.parse(answer.text) as { access_token?: unknown; error?: unknown; error_description?: unknown };
    if (answer.status !== 200 || typeof body.access_token !== 'string') {
      const why = [body.error, body.error_description].filter((v): v is string => typeof v === 'string').join(': ');
      results.push({ name: checkNames.token, passed: false, detail: `the token endpoint answered ${answer.status}${why === '' ? '' : ` ${why}`}` });
    } else {
      token = body.access_token;
      const bound = boundThumbprint(token);
      if ('problem' in bound) results.push({ name: checkNames.token, passed: false, detail: bound.problem });
      else if (bound.thumbprint !== q.pki.clientThumbprint) {
        results.push({ name: checkNames.token, passed: false, detail: `cnf."x5t#S256" is ${bound.thumbprint}, but client.crt's is ${q.pki.clientThumbprint}` });
      } else {
        results.push({ name: checkNames.token, passed: true, detail: `200 from the IdP; cnf."x5t#S256" ${bound.thumbprint} is client.crt's thumbprint` });
      }
    }
  } catch (error) {
    results.push({ name: checkNames.token, passed: false, detail: `token request failed: ${(error as Error).message}` });
  }

  const invalidToken = /^Bearer realm="[^"]*", error="invalid_token"$/;
  const gatewayChecks: Array<{ name: string; token: boolean; credential: Credential | null; expect: GatewayExpectation }> = [
    { name: checkNames.withCertificate, token: true, credential: client, expect: { status: 200, reason: 'jwt_verified' } },
    { name: checkNames.withoutCertificate, token: true, credential: null, expect: { status: 401, reason: 'pop_certificate_missing', challenge: invalidToken } },
    { name: checkNames.otherCertificate, token: true, credential: other, expect: { status: 401, reason: 'pop_certificate_mismatch', challenge: invalidToken } },
    { name: checkNames.withoutToken, token: false, credential: client, expect: { status: 401, reason: 'no_token', challenge: /^Bearer realm="[^"]*"$/ } },
  ];
  for (const check of gatewayChecks) {
    if (check.token && token === null) {
      results.push({ name: check.name, passed: false, detail: 'not run: no token' });
      continue;
    }
    const headers: Record<string, string> = check.token ? { authorization: `Bearer ${token}` } : {};
    results.push(await checkGateway(q, ca, check.name, { path: '/anything', headers, credential: check.credential }, check.expect));
  }
  results.push(...(await runDpopChecks(q, ca)));
  return results;
}

/** The DPoP route: a DPoP-bound token from `kong-dpop`, then the gateway with a fresh proof, the same proof again, none, and Bearer. */
async function runDpopChecks(q: Quickstart, ca: string): Promise<CheckResult[]> {
  const key = await generateClientKey('ES256');
  const results: CheckResult[] = [];
  let token: string | null = null;
  try {
    const tokenUrl = q.idp.endpoints.token;
    const answer = await httpsCall({
      url: tokenUrl,
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`kong-dpop:${devClientSecret}`).toString('base64')}`,
        dpop: await makeProof(key, { method: 'POST', url: tokenUrl }),
      },
      body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
      ca,
    });
    const body = JSON.parse(answer.text) as { access_token?: unknown; token_type?: unknown; error?: unknown };
    if (answer.status !== 200 || typeof body.access_token !== 'string') {
      results.push({ name: checkNames.dpopToken, passed: false, detail: `the token endpoint answered ${answer.status} ${typeof body.error === 'string' ? body.error : ''}`.trim() });
    } else {
      const jkt = claimsOf(body.access_token)?.cnf?.['jkt'];
      if (String(body.token_type).toLowerCase() !== 'dpop' || jkt !== key.jkt) {
        results.push({ name: checkNames.dpopToken, passed: false, detail: `token_type ${String(body.token_type)}, cnf.jkt ${String(jkt)}; the key's thumbprint is ${key.jkt}` });
      } else {
        token = body.access_token;
        results.push({ name: checkNames.dpopToken, passed: true, detail: `200 from the IdP; token_type DPoP, cnf.jkt ${key.jkt} is the client key's thumbprint` });
      }
    }
  } catch (error) {
    results.push({ name: checkNames.dpopToken, passed: false, detail: `token request failed: ${(error as Error).message}` });
  }
  const names = [checkNames.dpopFresh, checkNames.dpopReplayed, checkNames.dpopWithoutProof, checkNames.dpopAsBearer];
  const url = `https://${q.proxyHost}:${q.proxyPorts.https}${dpopPath}`;
  const metadataUrl = `https://${q.proxyHost}:${q.proxyPorts.https}/.well-known/oauth-protected-resource${dpopPath}`;
  if (token === null) return [...results, ...names.map((name) => ({ name, passed: false, detail: 'not run: no DPoP token' })), await checkMetadata(q, ca, url, metadataUrl)];
  const proof = await makeProof(key, { method: 'GET', url, accessToken: token });
  const proofError = new RegExp(`^DPoP algs="[^"]+", realm="[^"]*", error="invalid_dpop_proof", resource_metadata="${metadataUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"$`);
  const dpopHeaders = { authorization: `DPoP ${token}`, dpop: proof };
  const check = (name: string, headers: Record<string, string>, expect: GatewayExpectation) => checkGateway(q, ca, name, { path: dpopPath, headers, credential: null }, expect);
  results.push(await check(checkNames.dpopFresh, dpopHeaders, { status: 200, reason: 'jwt_verified_dpop' }));
  results.push(await check(checkNames.dpopReplayed, dpopHeaders, { status: 401, reason: 'dpop_proof_replayed', challenge: proofError }));
  results.push(await check(checkNames.dpopWithoutProof, { authorization: `DPoP ${token}` }, { status: 401, reason: 'dpop_proof_missing', challenge: proofError }));
  results.push(await check(checkNames.dpopAsBearer, { authorization: `Bearer ${token}` }, { status: 401, reason: 'dpop_token_downgraded', challenge: proofError }));
  results.push(await checkMetadata(q, ca, url, metadataUrl));
  return results;
}

/** RFC 9728: the DPoP route's document names the resource, the IdP, and that tokens must be DPoP-bound. */
async function checkMetadata(q: Quickstart, ca: string, resource: string, metadataUrl: string): Promise<CheckResult> {
  const name = checkNames.dpopMetadata;
  let answer: HttpsAnswer;
  try {
    answer = await httpsCall({ url: metadataUrl, method: 'GET', headers: {}, ca });
  } catch (error) {
    return { name, passed: false, detail: `GET ${metadataUrl} failed: ${(error as Error).message}` };
  }
  let doc: Record<string, unknown> = {};
  try {
    doc = JSON.parse(answer.text) as Record<string, unknown>;
  } catch {
    // Reported below as the members that are missing.
  }
  const problems: string[] = [];
  if (answer.status !== 200) problems.push(`status ${answer.status}`);
  if (doc['resource'] !== resource) problems.push(`resource ${String(doc['resource'])}, expected ${resource}`);
  const servers = doc['authorization_servers'];
  if (!Array.isArray(servers) || servers[0] !== q.idp.issuer) problems.push(`authorization_servers ${JSON.stringify(servers)}, expected [${q.idp.issuer}]`);
  if (doc['dpop_bound_access_tokens_required'] !== true) problems.push('dpop_bound_access_tokens_required is not true');
  const path = new URL(metadataUrl).pathname;
  return problems.length === 0
    ? { name, passed: true, detail: `GET ${path} → 200, resource ${resource}, authorization_servers [${q.idp.issuer}], dpop_bound_access_tokens_required true` }
    : { name, passed: false, detail: `GET ${path}: ${problems.join('; ')}` };
}

/** The payload of a JWT, decoded without verification (the gateway verifies; the check only reads `cnf`). */
function claimsOf(token: string): { cnf?: Record<string, unknown> } | null {
  try {
    return decodeJwt<{ cnf?: Record<string, unknown> }>(token);
  } catch {
    return null;
  }
}

interface GatewayRequestSpec {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly credential: Credential | null;
}

async function checkGateway(q: Quickstart, ca: string, name: string, spec: GatewayRequestSpec, expect: GatewayExpectation): Promise<CheckResult> {
  const url = `https://${q.proxyHost}:${q.proxyPorts.https}${spec.path}`;
  const requestId = `quickstart-check-${randomUUID()}`;
  let answer: HttpsAnswer;
  try {
    answer = await httpsCall({
      url,
      method: 'GET',
      headers: { 'x-request-id': requestId, ...spec.headers },
      ca,
      ...(spec.credential === null ? {} : { client: spec.credential }),
    });
  } catch (error) {
    return { name, passed: false, detail: `GET ${url} failed: ${(error as Error).message}` };
  }
  const record: Readonly<AccessRecord> | null = await q.requests.waitFor(requestId);
  const reason = record?.auth?.reason ?? record?.reason ?? null;
  const challenge = header(answer, 'www-authenticate');
  const problems: string[] = [];
  if (answer.status !== expect.status) problems.push(`expected ${expect.status}`);
  if (reason !== expect.reason) problems.push(`expected reason ${expect.reason}`);
  if (expect.challenge === undefined ? challenge !== undefined : challenge === undefined || !expect.challenge.test(challenge)) {
    problems.push(expect.challenge === undefined ? 'expected no WWW-Authenticate' : `expected WWW-Authenticate like ${expect.challenge.source}`);
  }
  const seen = [
    `GET ${spec.path} → ${answer.status}`,
    ...(challenge === undefined ? [] : [`WWW-Authenticate: ${challenge}`]),
    `reason ${reason ?? 'unknown'}`,
  ].join(', ');
  return { name, passed: problems.length === 0, detail: problems.length === 0 ? seen : `${seen} (${problems.join('; ')})` };
}

/** `PASS  token issued and bound: …` */
export function formatCheckResult(result: CheckResult): string {
  return `${result.passed ? 'PASS' : 'FAIL'}  ${result.name}: ${result.detail}`;
}
