/**
 * `portcullis dpop keygen | proof | inspect`: a DPoP key for curl and scripts, a proof for one
 * request, and a proof decoded with what a gateway would check.
 */
import { decodeJwt, decodeProtectedHeader, calculateJwkThumbprint, type JWK } from 'jose';
import { CLIENT_KEY_ALGORITHMS, generateClientKey, makeProof, readClientKey, writeClientKey, type ClientKeyAlgorithm } from '../../dpop/client-key.js';
import { normaliseHtu } from '../../dpop/htu.js';
import { accessTokenHash, DPOP_ALGORITHMS, ProofError, verifyProof } from '../../dpop/proof.js';
import { formatHelp, parseFlags, stringFlag, type FlagSpec } from '../flags.js';

const keygenFlags: Record<string, FlagSpec> = {
  out: { type: 'string', short: 'o', description: 'Key file to write (mode 0600)', defaultText: 'dpop-key.json', env: false },
  alg: { type: 'string', description: `Algorithm: ${CLIENT_KEY_ALGORITHMS.join(', ')}`, defaultText: 'ES256', env: false },
  force: { type: 'boolean', description: 'Overwrite an existing file', env: false },
};
const proofFlags: Record<string, FlagSpec> = {
  key: { type: 'string', description: 'Key file from `portcullis dpop keygen` (required)', env: false },
  method: { type: 'string', short: 'X', description: 'HTTP method of the request', defaultText: 'GET', env: false },
  url: { type: 'string', description: 'URL of the request (required); query and fragment are left out', env: false },
  token: { type: 'string', description: 'Access token sent with the proof (adds ath)', env: false },
  nonce: { type: 'string', description: 'Server nonce (from a DPoP-Nonce header)', env: false },
};
const inspectFlags: Record<string, FlagSpec> = {
  method: { type: 'string', short: 'X', description: 'Check htm against this method', env: false },
  url: { type: 'string', description: 'Check htu against this URL', env: false },
  token: { type: 'string', description: 'Check ath against this token', env: false },
};

const usage = 'portcullis dpop keygen [--alg ES256] [--out FILE] | proof --key FILE --url URL [-X METHOD] [--token T] [--nonce N] | inspect PROOF [-X M --url U --token T]';
const description = [
  'RFC 9449 DPoP for the command line, e.g.:',
  '  portcullis dpop keygen --out key.json',
  '  curl -H "DPoP: $(portcullis dpop proof --key key.json -X POST --url https://idp/token)" …',
  '  curl -H "Authorization: DPoP $AT" -H "DPoP: $(portcullis dpop proof --key key.json --url https://gw:8443/x --token $AT)" https://gw:8443/x',
].join('\n');

export async function dpopCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'keygen':
      return keygen(rest, env);
    case 'proof':
      return proof(rest, env);
    case 'inspect':
      return inspect(rest, env);
    default:
      console.log(formatHelp(usage, description, { ...keygenFlags, ...proofFlags }));
      return sub === undefined || sub === '--help' || sub === '-h' ? 0 : 2;
  }
}

async function keygen(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseFlags(argv, keygenFlags, env);
  if (values['help'] === true) return help('portcullis dpop keygen [--alg ES256] [--out FILE] [--force]', keygenFlags);
  const alg = (stringFlag(values, 'alg') ?? 'ES256') as ClientKeyAlgorithm;
  if (!CLIENT_KEY_ALGORITHMS.includes(alg)) throw new TypeError(`--alg: '${alg}' is not one of ${CLIENT_KEY_ALGORITHMS.join(', ')}`);
  const out = stringFlag(values, 'out') ?? 'dpop-key.json';
  const key = await generateClientKey(alg);
  try {
    await writeClientKey(out, key, values['force'] === true);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${out} exists; give --force to replace it`);
    throw error;
  }
  process.stderr.write(`portcullis dpop: wrote ${alg} key ${out}\n`);
  // The thumbprint on stdout: it is what a token bound to this key carries as cnf.jkt.
  console.log(key.jkt);
  return 0;
}

async function proof(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseFlags(argv, proofFlags, env);
  if (values['help'] === true) return help('portcullis dpop proof --key FILE --url URL [-X METHOD] [--token T] [--nonce N]', proofFlags);
  const file = stringFlag(values, 'key');
  const url = stringFlag(values, 'url');
  if (file === undefined || url === undefined) throw new TypeError('dpop proof: --key and --url are required');
  if (normaliseHtu(url) === null) throw new TypeError(`--url: '${url}' is not an http(s) URL`);
  const key = await readClientKey(file);
  const token = stringFlag(values, 'token');
  const nonce = stringFlag(values, 'nonce');
  console.log(await makeProof(key, { method: stringFlag(values, 'method') ?? 'GET', url, ...(token === undefined ? {} : { accessToken: token }), ...(nonce === undefined ? {} : { nonce }) }));
  return 0;
}

async function inspect(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(argv, inspectFlags, env);
  if (values['help'] === true) return help('portcullis dpop inspect PROOF [-X METHOD] [--url URL] [--token T]', inspectFlags);
  const value = positionals[0];
  if (value === undefined) throw new TypeError('dpop inspect: give the proof (the DPoP header value)');
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(value);
    claims = decodeJwt(value);
  } catch (error) {
    // Like every CLI error: one line on stderr (`portcullis: …`, from main), exit 1.
    throw new Error(`dpop inspect: not a decodable JWS: ${(error as Error).message}`, { cause: error });
  }
  const jwk = header['jwk'];
  const jkt = typeof jwk === 'object' && jwk !== null ? await calculateJwkThumbprint(jwk as JWK).catch(() => null) : null;
  const { jwk: _omitted, ...shownHeader } = header;
  const lines = [`header: ${JSON.stringify(shownHeader)}`, `claims: ${JSON.stringify(claims)}`, `jkt (cnf.jkt of a token bound to this key): ${jkt ?? '-'}`];
  if (typeof claims['iat'] === 'number') lines.push(`iat: ${new Date(claims['iat'] * 1000).toISOString()} (${Math.round(Date.now() / 1000 - claims['iat'])} s ago)`);
  lines.push(
    'a gateway checks: one DPoP header; typ dpop+jwt; alg asymmetric and allowed; a public jwk that verifies the signature; jti, htm, htu, iat (and ath with a token);',
    '  htm = method; htu = request URI (normalised, no query/fragment); iat within the lifetime; ath = SHA-256 of the token; jkt = the token cnf.jkt; jti not seen before; the nonce when required',
  );
  const method = stringFlag(values, 'method');
  const url = stringFlag(values, 'url');
  const token = stringFlag(values, 'token');
  let code = 0;
  if (method !== undefined || url !== undefined || token !== undefined) {
    try {
      await verifyProof(value, {
        method: method ?? String(claims['htm']),
        htu: normaliseHtu(url ?? String(claims['htu'])),
        accessToken: token ?? null,
        algorithms: DPOP_ALGORITHMS,
      });
      lines.push(`verified against ${method ?? '(its htm)'} ${url ?? '(its htu)'}${token === undefined ? '' : ` with ath ${accessTokenHash(token)}`}: OK (time, binding and replay depend on the gateway)`);
    } catch (error) {
      if (!(error instanceof ProofError)) throw error;
      lines.push(`verified: FAIL ${error.reason}: ${error.message}`);
      code = 1;
    }
  }
  console.log(lines.join('\n'));
  return code;
}

function help(line: string, flags: Record<string, FlagSpec>): number {
  console.log(formatHelp(line, description, flags));
  return 0;
}
