// What the quickstart prints: what runs where, what was applied, and the tutorial's own curl
// commands with this machine's ports and file paths filled in.
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join, relative, resolve } from 'node:path';
import { tutorialClientSubject } from '../certs/index.js';
import { devClientSecret } from '../idp/clients.js';
import type { Quickstart } from './start-quickstart.js';
import { dpopPath } from './tutorial-config.js';

export interface InstructionsOptions {
  /** Directory the user typed the command in; paths are shown relative to it when inside it. */
  readonly userDir: string;
  /** Whether `jq` is available (the tutorial pipes the token response through it). */
  readonly hasJq: boolean;
}

/** Single-quoted for a POSIX shell when it has anything but safe characters. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `path` relative to `base` when it lies inside it, absolute otherwise. */
export function displayPath(path: string, base: string): string {
  const absolute = resolve(path);
  const rel = relative(resolve(base), absolute);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : absolute;
}

/** Whether an executable called `name` is on PATH. */
export function onPath(name: string, env: NodeJS.ProcessEnv): boolean {
  return (env['PATH'] ?? '').split(delimiter).some((dir) => {
    if (dir === '') return false;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The lines describing the running pieces and the applied configuration. */
export function formatSummary(q: Quickstart, options: InstructionsOptions): string[] {
  const show = (p: string) => displayPath(p, options.userDir);
  const proxy = q.gateway.proxyListeners.map((l) => `${l.spec.ssl ? 'https' : 'http'}://${hostPort(l.address.host, l.address.port)}`).join(' and ');
  const admin = q.gateway.adminListeners.map((l) => `${l.spec.ssl ? 'https' : 'http'}://${hostPort(l.address.host, l.address.port)}`).join(', ');
  const width = Math.max(...q.applied.map((a) => show(a.path).length));
  return [
    `  certificates   ${show(q.pki.dir)}/ (${q.pki.created ? 'made now' : 'made earlier, reused'}): rootCA.crt, server.crt (localhost), client.crt, other-client.crt`,
    `  upstream       ${q.echo.url} (built-in echo server, in place of httpbin.konghq.com)`,
    `  IdP            ${q.idp.issuer} (development IdP in place of Keycloak; client 'kong' authenticates with client.crt, tokens bound to it;`,
    `                 client 'kong-dpop' gets DPoP-bound tokens)`,
    `  gateway        proxy ${proxy}; admin API ${admin}`,
    `  configuration  the tutorial's decK steps, applied as 'portcullis apply FILE' does, with DECK_ISSUER=${q.idp.issuer}:`,
    ...q.applied.map((a) => `                   ${show(a.path).padEnd(width)}  ${a.summary}`),
  ];
}

/** The tutorial's commands for this quickstart: token, 200 with the certificate, 401 without. */
export function formatTryIt(q: Quickstart, options: InstructionsOptions): string[] {
  const show = (p: string) => shellWord(displayPath(p, options.userDir));
  const cert = show(q.pki.clientCertPath);
  const key = show(q.pki.clientKeyPath);
  const gatewayUrl = `https://${q.proxyHost}:${q.proxyPorts.https}/anything`;
  const extract = options.hasJq ? ' | jq -r .access_token' : ` | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).access_token'`;
  return [
    `# 1. Get an access token for client 'kong', authenticating with client.crt (${tutorialClientSubject}).`,
    `#    The IdP binds it to that certificate (cnf."x5t#S256" = ${q.pki.clientThumbprint}); it lives 60 seconds.`,
    `export ACCESS_TOKEN=$(curl -s --location --request POST '${q.idp.endpoints.token}' \\`,
    `  --header 'Content-Type: application/x-www-form-urlencoded' \\`,
    `  --data-urlencode 'client_id=kong' \\`,
    `  --data-urlencode 'grant_type=client_credentials' \\`,
    `  --cert ${cert} \\`,
    `  --key ${key} \\`,
    `  --cacert ${show(q.pki.caPath)}${extract})`,
    '',
    '# 2. Call the gateway with the token and the same certificate: HTTP 200',
    'curl -isk \\',
    `  -X GET "${gatewayUrl}" \\`,
    '  -H "Authorization:Bearer $ACCESS_TOKEN" \\',
    `  --cert ${cert} \\`,
    `  --key ${key}`,
    '',
    '# 3. The same token without the certificate: HTTP 401, WWW-Authenticate: Bearer … error="invalid_token"',
    'curl -isk \\',
    `  -X GET "${gatewayUrl}" \\`,
    '  -H "Authorization:Bearer $ACCESS_TOKEN"',
    '',
    ...formatDpopTryIt(q, show(q.pki.caPath), extract),
  ];
}

/** Beyond the tutorial: the DPoP route with a key of the user's, a DPoP-bound token and fresh proofs. */
function formatDpopTryIt(q: Quickstart, ca: string, extract: string): string[] {
  const tokenUrl = q.idp.endpoints.token;
  const dpopUrl = `https://${q.proxyHost}:${q.proxyPorts.https}${dpopPath}`;
  const proof = `npx portcullis dpop proof --key dpop-key.json --url ${dpopUrl} --token "$DPOP_TOKEN"`;
  return [
    '# 4. Beyond the tutorial, DPoP (RFC 9449): a key of your own (its thumbprint is printed), a token bound to it',
    "#    for client 'kong-dpop', and a call with a fresh proof: HTTP 200",
    'npx portcullis dpop keygen --out dpop-key.json --force',
    `export DPOP_TOKEN=$(curl -s -X POST '${tokenUrl}' \\`,
    `  -u kong-dpop:${devClientSecret} -d grant_type=client_credentials \\`,
    `  -H "DPoP: $(npx portcullis dpop proof --key dpop-key.json -X POST --url '${tokenUrl}')" \\`,
    `  --cacert ${ca}${extract})`,
    `curl -isk "${dpopUrl}" -H "Authorization: DPoP $DPOP_TOKEN" -H "DPoP: $(${proof})"`,
    '',
    '# 5. The same proof twice, no proof, or the token as Bearer: HTTP 401, WWW-Authenticate: DPoP … error="invalid_dpop_proof"',
    `PROOF=$(${proof})`,
    `curl -isk "${dpopUrl}" -H "Authorization: DPoP $DPOP_TOKEN" -H "DPoP: $PROOF" -o /dev/null -w '%{http_code}\\n'`,
    `curl -isk "${dpopUrl}" -H "Authorization: DPoP $DPOP_TOKEN" -H "DPoP: $PROOF"`,
    `curl -isk "${dpopUrl}" -H "Authorization: Bearer $DPOP_TOKEN"`,
    '',
    "# 6. RFC 9728: what a client learns before it has a token (each 401 above names this URL in resource_metadata)",
    `curl -sk "https://${q.proxyHost}:${q.proxyPorts.https}/.well-known/oauth-protected-resource${dpopPath}"`,
  ];
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
