/**
 * HAProxy as a reference: the same proxy jobs, and the tutorial's check done HAProxy's way —
 * `jwt_verify` with the issuer's public key, `iss`/`aud`/`exp` read with `jwt_payload_query`, and
 * `cnf."x5t#S256"` compared with the SHA-256 of the client certificate (`ssl_c_der,digest(sha256),ub64enc`).
 * HAProxy 2.6 takes one fixed key per rule (no JWKS, no kid) and caches nothing.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPinned, waitForPort, type Program } from '../lib/processes.js';
import type { TlsFiles } from './nginx.js';

export interface HaproxyPorts {
  readonly http: number;
  readonly mtls: number;
  readonly jwtRs256: number;
  readonly jwtEs256: number;
}

export interface HaproxyJwt {
  readonly issuer: string;
  readonly audience: string;
  readonly rs256Pem: string;
  readonly es256Pem: string;
}

function jwtRules(alg: string, keyFile: string, jwt: HaproxyJwt): string {
  return `
  http-request deny deny_status 403 unless { ssl_c_used } { ssl_c_verify 0 }
  http-request set-var(txn.bearer) http_auth_bearer
  http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('$.alg')
  http-request deny deny_status 401 unless { var(txn.alg) -m str ${alg} }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_verify(txn.alg,"${keyFile}") -m int 1 }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('$.iss') -m str ${jwt.issuer} }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('$.aud') -m str ${jwt.audience} }
  http-request set-var(txn.now) date
  http-request set-var(txn.exp) var(txn.bearer),jwt_payload_query('$.exp','int')
  http-request deny deny_status 401 unless { var(txn.exp),sub(txn.now) -m int gt 0 }
  http-request set-var(txn.x5t) ssl_c_der,digest(sha256),ub64enc
  http-request set-var(txn.cnf) var(txn.bearer),jwt_payload_query('$.cnf.x5t#S256')
  http-request deny deny_status 401 unless { var(txn.cnf),strcmp(txn.x5t) eq 0 }`;
}

export async function startHaproxy(dir: string, cpus: string, ports: HaproxyPorts, upstreamPort: number, tls: TlsFiles, jwt: HaproxyJwt, threads = 1): Promise<Program> {
  await mkdir(dir, { recursive: true });
  const pem = join(dir, 'server.pem');
  await writeFile(pem, (await readFile(tls.serverCert, 'utf8')) + (await readFile(tls.serverKey, 'utf8')));
  const rsaKey = join(dir, 'jwt-rs256.pub');
  const ecKey = join(dir, 'jwt-es256.pub');
  await writeFile(rsaKey, jwt.rs256Pem);
  await writeFile(ecKey, jwt.es256Pem);
  const bind = (port: number): string => `bind 127.0.0.1:${port} ssl crt ${pem} ca-file ${tls.caCert} verify optional`;
  const config = `global
  nbthread ${threads}
  maxconn 9000
  ssl-default-bind-options ssl-min-ver TLSv1.2
  tune.ssl.cachesize 20000
defaults
  mode http
  timeout connect 5s
  timeout client 300s
  timeout server 30s
  timeout http-keep-alive 300s
  option http-keep-alive
  http-reuse always
  default_backend up
frontend plain
  bind 127.0.0.1:${ports.http}
frontend mtls
  ${bind(ports.mtls)}
  http-request deny deny_status 403 unless { ssl_c_used } { ssl_c_verify 0 }
frontend jwt_rs256
  ${bind(ports.jwtRs256)}${jwtRules('RS256', rsaKey, jwt)}
frontend jwt_es256
  ${bind(ports.jwtEs256)}${jwtRules('ES256', ecKey, jwt)}
backend up
  server s1 127.0.0.1:${upstreamPort} maxconn 1000
`;
  const file = join(dir, 'haproxy.cfg');
  await writeFile(file, config);
  const program = startPinned('haproxy', cpus, 'haproxy', ['-db', '-f', file]);
  await waitForPort(ports.jwtEs256);
  return program;
}
