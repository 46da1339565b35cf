import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadIdpClientsFile } from '../../idp/clients.js';
import { ensureDevPki } from '../../idp/dev-pki.js';
import { rotateSigningKeys } from '../../idp/keys.js';
import { formatHelp, intFlag, listFlag, parseFlags, stringFlag, type FlagSpec } from '../flags.js';
import { stopOnSignals } from './start.js';

const defaultDir = join('.portcullis', 'idp');

const flags: Record<string, FlagSpec> = {
  dir: { type: 'string', description: 'Directory for signing keys (and generated certificates)', defaultText: defaultDir, env: false },
  cert: { type: 'string', description: 'Server certificate PEM (chain allowed); with --key and --ca. Without them, certificates are made in DIR/pki', env: false },
  key: { type: 'string', description: 'Server private key PEM', env: false },
  ca: { type: 'string', multiple: true, description: 'CA PEM whose client certificates are trusted for tls_client_auth (repeatable)', env: false },
  host: { type: 'string', description: 'Address to listen on', defaultText: 'localhost', env: false },
  port: { type: 'string', description: 'HTTPS port (0 = any free port)', defaultText: '9443', env: false },
  realm: { type: 'string', description: 'Realm in the paths (/realms/REALM/…)', defaultText: 'master', env: false },
  'public-host': { type: 'string', description: 'Host name written in the issuer', defaultText: '--host', env: false },
  clients: { type: 'string', description: 'Clients YAML file (default: kong, kong-opaque, kong-secret, kong-dpop, kong-dpop-opaque, kong-introspection)', env: false },
  'dpop-nonces': { type: 'boolean', description: 'Require an IdP nonce in DPoP proofs at the token endpoint', env: false },
  'access-token-ttl': { type: 'string', description: 'Default access token lifetime, seconds', defaultText: '60', env: false },
  audience: { type: 'string', description: 'Default aud of access tokens', defaultText: 'urn:portcullis:api', env: false },
  'key-grace': { type: 'string', description: 'Seconds a rotated-out key stays published', defaultText: '86400', env: false },
};

const rotateFlags: Record<string, FlagSpec> = {
  dir: { type: 'string', description: 'The IdP directory', defaultText: defaultDir, env: false },
  'key-grace': { type: 'string', description: 'Seconds the previous keys stay published', defaultText: '86400', env: false },
};

const usage = 'portcullis idp [--dir DIR] [--cert FILE --key FILE --ca FILE] [--port 9443] [--host localhost] [--realm master] [--clients FILE]';
const description = [
  'Runs the development identity provider (oidc-provider with Keycloak\'s paths): client_credentials with',
  'RFC 8705 mTLS client authentication and certificate-bound access tokens, and RFC 9449 DPoP-bound tokens',
  '(clients kong-dpop, kong-dpop-opaque), for the Kong tutorial and tests.',
  'Not for production. SIGHUP reloads the signing keys; `portcullis idp rotate-keys --dir DIR` rotates them.',
].join('\n');

/** `portcullis idp` and `portcullis idp rotate-keys`. */
export async function idpCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv[0] === 'rotate-keys') return rotateKeysCommand(argv.slice(1), env);
  const { values, positionals } = parseFlags(argv, flags, env);
  if (values['help'] === true) {
    console.log(formatHelp(usage, `${description}\n\nSubcommand: portcullis idp rotate-keys [--dir DIR] [--key-grace SECONDS]`, flags));
    return 0;
  }
  if (positionals.length > 0) throw new TypeError(`idp: unexpected argument '${positionals[0]}' (did you mean 'rotate-keys'?)`);
  const dir = stringFlag(values, 'dir') ?? defaultDir;
  const host = stringFlag(values, 'host') ?? 'localhost';
  const publicHost = stringFlag(values, 'public-host');
  const port = intFlag(values, 'port', 9443);
  if (port > 65535) throw new TypeError(`--port: '${port}' is not a port`);

  let certPath = stringFlag(values, 'cert');
  let keyPath = stringFlag(values, 'key');
  let caPaths = listFlag(values, 'ca');
  let clientHint: { certPath: string; keyPath: string } | undefined;
  if (certPath === undefined && keyPath === undefined && caPaths.length === 0) {
    const pki = await ensureDevPki(join(dir, 'pki'), publicHost ?? host);
    ({ serverCertPath: certPath, serverKeyPath: keyPath } = pki);
    caPaths = [pki.caPath];
    clientHint = { certPath: pki.clientCertPath, keyPath: pki.clientKeyPath };
    process.stderr.write(`portcullis idp: ${pki.created ? 'made' : 'using'} development certificates in ${pki.dir}\n`);
  } else if (certPath === undefined || keyPath === undefined || caPaths.length === 0) {
    throw new TypeError('idp: give --cert, --key and --ca together (or none of them to use generated certificates)');
  }

  const [certPem, keyPem, ...caPems] = await Promise.all([certPath, keyPath, ...caPaths].map((p) => readFile(p, 'utf8')));
  const clientsFile = stringFlag(values, 'clients');
  // Loaded here, not at the top: oidc-provider and its dependencies are the heaviest import of the
  // package, and no other portcullis command needs them.
  const { developmentNotice, startIdp } = await import('../../idp/server.js');
  const idp = await startIdp({
    dir,
    host,
    port,
    realm: stringFlag(values, 'realm'),
    publicHost,
    tls: { certPem: certPem ?? '', keyPem: keyPem ?? '', caPems },
    clients: clientsFile === undefined ? undefined : await loadIdpClientsFile(clientsFile),
    accessTokenTtlSeconds: intFlag(values, 'access-token-ttl', 60),
    dpopNonces: values['dpop-nonces'] === true,
    audience: stringFlag(values, 'audience'),
    keyGraceSeconds: intFlag(values, 'key-grace', 86_400),
    log: (line) => {
      if (line !== developmentNotice) process.stderr.write(`portcullis idp: ${line}\n`);
    },
  });

  const caHint = caPaths[0] ?? 'rootCA.crt';
  const lines = [
    '',
    `WARNING: ${developmentNotice}`,
    '',
    `Issuer:    ${idp.issuer}`,
    `Discovery: ${idp.endpoints.discovery}`,
    `Token:     ${idp.endpoints.token}`,
    `JWKS:      ${idp.endpoints.jwks}`,
    `Clients:   ${idp.clients.map((c) => `${c.client_id} (${c.token_endpoint_auth_method}${c.tls_client_certificate_bound_access_tokens ? ', cert-bound' : ''}, ${c.access_token_format})`).join(', ')}`,
    '',
    'Get a certificate-bound token as in the Kong tutorial:',
    '',
    `  curl -s -X POST '${idp.endpoints.token}' \\`,
    `    --data-urlencode 'client_id=kong' --data-urlencode 'grant_type=client_credentials' \\`,
    `    --cert ${clientHint?.certPath ?? 'client.crt'} --key ${clientHint?.keyPath ?? 'client.key'} --cacert ${caHint} | jq -r .access_token`,
    '',
    `  export DECK_ISSUER='${idp.issuer}'`,
    '',
    'Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
  process.on('SIGHUP', () => {
    idp.reloadKeys().catch(() => {});
  });
  stopOnSignals(() => idp.close());
  return -1;
}

async function rotateKeysCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseFlags(argv, rotateFlags, env);
  if (values['help'] === true) {
    console.log(
      formatHelp(
        'portcullis idp rotate-keys [--dir DIR] [--key-grace SECONDS]',
        'Makes new signing keys in DIR; the previous ones stay published for the grace period. A running IdP on DIR picks them up.',
        rotateFlags,
      ),
    );
    return 0;
  }
  const dir = stringFlag(values, 'dir') ?? defaultDir;
  const stored = await rotateSigningKeys(dir, intFlag(values, 'key-grace', 86_400));
  const active = stored.keys.filter((k) => k.retired_at === null).map((k) => `${k.jwk.alg} ${k.jwk.kid}`);
  console.log(`rotated the signing keys in ${dir}: now signing with ${active.join(', ')}; ${stored.keys.length - active.length} previous keys still published`);
  return 0;
}
