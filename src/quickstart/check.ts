// `portcullis quickstart --check`: the tutorial's last steps, run against the running quickstart —
// a token from the IdP with the client certificate, then the gateway with and without it — each
// judged by its status, its `WWW-Authenticate` and the reason code the gateway recorded.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AccessRecord } from '../server/access-log.js';
import { httpsCall, type HttpsAnswer } from './https-call.js';
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
  const payload = token.split('.')[1];
  if (payload === undefined) return { problem: 'the access token is not a JWT' };
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { cnf?: Record<string, unknown> };
    const thumbprint = claims.cnf?.['x5t#S256'];
    return typeof thumbprint === 'string' ? { thumbprint } : { problem: 'the access token has no cnf."x5t#S256": it is not bound to a certificate' };
  } catch {
    return { problem: 'the access token payload is not JSON' };
  }
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
    results.push(await checkGateway(q, ca, check.name, check.token ? token : null, check.credential, check.expect));
  }
  return results;
}

async function checkGateway(q: Quickstart, ca: string, name: string, token: string | null, credential: Credential | null, expect: GatewayExpectation): Promise<CheckResult> {
  const url = `https://${q.proxyHost}:${q.proxyPorts.https}/anything`;
  const requestId = `quickstart-check-${randomUUID()}`;
  let answer: HttpsAnswer;
  try {
    answer = await httpsCall({
      url,
      method: 'GET',
      headers: { 'x-request-id': requestId, ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
      ca,
      ...(credential === null ? {} : { client: credential }),
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
    `GET /anything → ${answer.status}`,
    ...(challenge === undefined ? [] : [`WWW-Authenticate: ${challenge}`]),
    `reason ${reason ?? 'unknown'}`,
  ].join(', ');
  return { name, passed: problems.length === 0, detail: problems.length === 0 ? seen : `${seen} (${problems.join('; ')})` };
}

/** `PASS  token issued and bound: …` */
export function formatCheckResult(result: CheckResult): string {
  return `${result.passed ? 'PASS' : 'FAIL'}  ${result.name}: ${result.detail}`;
}
