import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  certificateThumbprint,
  createDevelopmentPki,
  defaultServerHostnames,
  describeCertificate,
  developmentPkiFileNames,
  developmentPkiPemFiles,
  escapeRdnValue,
  FileExistsError,
  findExistingFile,
  formatCertificateDescription,
  issueCertificate,
  loadCertificateAuthority,
  readCertificateFile,
  splitHostnames,
  writeOutputFiles,
  type CertificateAuthority,
  type OutputFile,
} from '../../certs/index.js';
import { x509 } from '../../certs/x509.js';
import { envName, formatHelp, listFlag, parseFlags, stringFlag, type FlagSpec, type FlagValues } from '../flags.js';

// The tutorial's names where it has them (rootCA.*, client.*), so its curl commands work verbatim.
const files = {
  ...developmentPkiFileNames,
  serverP12: 'server.p12',
  truststoreP12: 'truststore.p12',
  clientP12: 'client.p12',
} as const;

/** The tutorial's variable; read after `PORTCULLIS_P12_PASSWORD`. */
const tutorialPasswordVariable = 'PKCS12_PASSWORD';

const passwordFlag: FlagSpec = {
  type: 'string',
  description: `Password of the PKCS#12 files, at least 6 characters; also read from ${tutorialPasswordVariable}. Without one, no .p12 is written`,
};
const dirFlag: FlagSpec = { type: 'string', description: 'Directory of the files (created if missing)', env: false };
const forceFlag: FlagSpec = { type: 'boolean', description: 'Overwrite existing files', env: false };

const initFlags: Record<string, FlagSpec> = {
  dir: dirFlag,
  hostname: {
    type: 'string',
    multiple: true,
    description: 'DNS name or IP address of the server certificate; repeat or comma-separate',
    defaultText: defaultServerHostnames.join(', '),
    env: false,
  },
  'p12-password': passwordFlag,
  force: forceFlag,
};

const clientFlags: Record<string, FlagSpec> = {
  dir: { ...dirFlag, description: `Directory holding ${files.caCert} and ${files.caKey}; the new files go there too` },
  cn: { type: 'string', description: 'Common name of the client (the subject is CN=NAME)', env: false },
  subject: { type: 'string', description: "Full subject instead, RFC 4514: 'CN=app, OU=Dev, O=Org, C=US'", env: false },
  out: { type: 'string', description: 'Base name of the files: NAME.crt, NAME.key, NAME.p12', defaultText: 'the CN', env: false },
  'p12-password': passwordFlag,
  force: forceFlag,
};

const inspectFlags: Record<string, FlagSpec> = {
  json: { type: 'boolean', description: 'Print JSON', env: false },
};

const usage = `Usage: portcullis certs <init|client|inspect> [options]

Makes the certificates of the mTLS / certificate-bound token tutorial, without openssl or keytool.

  init      A root CA, a server certificate and the tutorial's client certificate (client-app)
  client    Another client certificate from the CA made by init
  inspect   Subject, issuer, names, validity, key, fingerprints and x5t#S256 of a certificate

Run 'portcullis certs <subcommand> --help' for its options.`;

/** `portcullis certs init|client|inspect`: development certificates and their inspection. */
export async function certsCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'init':
      return initCommand(rest, env);
    case 'client':
      return clientCommand(rest, env);
    case 'inspect':
      return inspectCommand(rest, env);
    case '--help':
    case '-h':
    case 'help':
      console.log(usage);
      return 0;
    default:
      console.error(sub === undefined ? usage : `portcullis certs: unknown subcommand '${sub}'\n\n${usage}`);
      return 2;
  }
}

async function initCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const help = formatHelp(
    'portcullis certs init --dir DIR [--hostname H …] [--p12-password P] [--force]',
    `Makes ${files.caCert}/${files.caKey}, ${files.serverCert}/${files.serverKey}, ${files.clientCert}/${files.clientKey} and, with a password, ${files.serverP12}, ${files.truststoreP12}, ${files.clientP12}.`,
    initFlags,
  );
  const { values, positionals } = parseFlags(argv, initFlags, env);
  if (values['help'] === true) return (console.log(help), 0);
  const dir = stringFlag(values, 'dir');
  if (dir === undefined || positionals.length > 0) return usageError(dir === undefined ? '--dir is required' : `unexpected argument '${positionals[0]}'`, help);
  const hostnames = listFlag(values, 'hostname');
  const hosts = hostnames.length > 0 ? hostnames : [...defaultServerHostnames];
  try {
    splitHostnames(hosts);
  } catch (error) {
    if (error instanceof TypeError) throw new TypeError(`--hostname: ${error.message.replace(/^(dnsNames|ipAddresses): /, '')}`);
    throw error;
  }
  const password = resolvePassword(argv, values, env);
  const force = values['force'] === true;

  const pemNames = [files.caCert, files.caKey, files.serverCert, files.serverKey, files.clientCert, files.clientKey];
  const p12Names = [files.serverP12, files.truststoreP12, files.clientP12];
  const names = password === undefined ? pemNames : [...pemNames, ...p12Names];
  if (!force) {
    const existing = await findExistingFile(dir, names);
    if (existing !== undefined) return refuse('init', new FileExistsError(existing));
  }

  const pki = await createDevelopmentPki({ hostnames: hosts });
  const output: OutputFile[] = developmentPkiPemFiles(pki);
  if (password !== undefined) {
    const { createPkcs12 } = await import('../../certs/pkcs12.js');
    const chainPem = [pki.ca.certPem];
    const [server, truststore, client] = await Promise.all([
      createPkcs12({ password, keys: [{ alias: 'server', keyPem: pki.server.keyPem, certPem: pki.server.certPem, chainPem }] }),
      createPkcs12({ password, trusted: [{ alias: 'rootca', certPem: pki.ca.certPem }] }),
      createPkcs12({ password, keys: [{ alias: 'client', keyPem: pki.client.keyPem, certPem: pki.client.certPem, chainPem }] }),
    ]);
    output.push(
      { name: files.serverP12, data: server, secret: true },
      { name: files.truststoreP12, data: truststore, secret: false },
      { name: files.clientP12, data: client, secret: true },
    );
  }
  try {
    await writeOutputFiles(dir, output, { force });
  } catch (error) {
    if (error instanceof FileExistsError) return refuse('init', error);
    throw error;
  }

  const subjectOf = (pem: string) => describeCertificate(pem).subject;
  const lines = [
    `Wrote to ${dir}:`,
    `  ${files.caCert.padEnd(15)} root CA certificate: ${subjectOf(pki.ca.certPem)} (trust anchor; the tutorial's rootCA.crt)`,
    `  ${files.caKey.padEnd(15)} root CA private key (mode 0600; signs 'portcullis certs client')`,
    `  ${files.serverCert.padEnd(15)} server certificate for ${hosts.join(', ')} (the tutorial's keycloak.crt)`,
    `  ${files.serverKey.padEnd(15)} server private key (mode 0600)`,
    `  ${files.clientCert.padEnd(15)} client certificate: ${subjectOf(pki.client.certPem)}`,
    `  ${files.clientKey.padEnd(15)} client private key (mode 0600)`,
  ];
  if (password !== undefined) {
    lines.push(
      `  ${files.serverP12.padEnd(15)} PKCS#12: server key + certificate + CA, alias 'server' (the tutorial's keycloak-keystore.p12)`,
      `  ${files.truststoreP12.padEnd(15)} PKCS#12 trust store: the CA as trusted entry 'rootca' (the tutorial's keycloak-truststore.p12)`,
      `  ${files.clientP12.padEnd(15)} PKCS#12: client key + certificate + CA, alias 'client'`,
    );
  } else {
    lines.push('', `PKCS#12 files skipped: no password (give --p12-password, or set ${envName('p12-password')} or ${tutorialPasswordVariable}).`);
    const stale = await Promise.all(p12Names.map((name) => findExistingFile(dir, [name])));
    const left = stale.filter((p): p is string => p !== undefined);
    if (left.length > 0) lines.push(`Note: ${left.join(', ')} from an earlier run no longer match the new keys; delete or remake them.`);
  }
  lines.push(
    '',
    `x5t#S256 of ${files.clientCert} (a token bound to it carries this in cnf): ${certificateThumbprint(pki.client.certPem)}`,
    '',
    `Against a TLS listener serving ${files.serverCert} (portcullis start --ssl-cert ${join(dir, files.serverCert)} --ssl-cert-key ${join(dir, files.serverKey)}):`,
    `  curl --cert ${join(dir, files.clientCert)} --key ${join(dir, files.clientKey)} --cacert ${join(dir, files.caCert)} https://${urlHost(hosts[0] ?? 'localhost')}:8443/anything`,
  );
  console.log(lines.join('\n'));
  return 0;
}

async function clientCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const help = formatHelp(
    'portcullis certs client --dir DIR --cn NAME [--subject DN] [--out NAME] [--p12-password P] [--force]',
    `Issues another client certificate (clientAuth) from ${files.caCert}/${files.caKey} in DIR.`,
    clientFlags,
  );
  const { values, positionals } = parseFlags(argv, clientFlags, env);
  if (values['help'] === true) return (console.log(help), 0);
  const dir = stringFlag(values, 'dir');
  const cn = stringFlag(values, 'cn');
  const givenSubject = stringFlag(values, 'subject');
  if (dir === undefined) return usageError('--dir is required', help);
  if (cn === undefined && givenSubject === undefined) return usageError('--cn or --subject is required', help);
  if (positionals.length > 0) return usageError(`unexpected argument '${positionals[0]}'`, help);
  const subject = givenSubject ?? `CN=${escapeRdnValue(cn ?? '')}`;
  const subjectCn = commonNameOf(subject);
  if (cn !== undefined && givenSubject !== undefined && subjectCn !== cn) {
    throw new TypeError(`--cn '${cn}' differs from the CN of --subject ('${subjectCn ?? 'none'}'); give one of them`);
  }
  const out = stringFlag(values, 'out') ?? fileNameOf(cn ?? subjectCn ?? '');
  checkOutName(out);
  const password = resolvePassword(argv, values, env);
  const force = values['force'] === true;
  const names = [`${out}.crt`, `${out}.key`, ...(password === undefined ? [] : [`${out}.p12`])];
  if (!force) {
    const existing = await findExistingFile(dir, names);
    if (existing !== undefined) return refuse('client', new FileExistsError(existing));
  }

  const ca = await loadCa(dir);
  const issued = await issueCertificate({ ca, subject, usage: 'client', keyType: 'rsa-2048' });
  const output: OutputFile[] = [
    { name: `${out}.crt`, data: issued.certPem, secret: false },
    { name: `${out}.key`, data: issued.keyPem, secret: true },
  ];
  if (password !== undefined) {
    const { createPkcs12 } = await import('../../certs/pkcs12.js');
    const p12 = await createPkcs12({ password, keys: [{ alias: out, keyPem: issued.keyPem, certPem: issued.certPem, chainPem: [ca.rootPem] }] });
    output.push({ name: `${out}.p12`, data: p12, secret: true });
  }
  try {
    await writeOutputFiles(dir, output, { force });
  } catch (error) {
    if (error instanceof FileExistsError) return refuse('client', error);
    throw error;
  }
  const lines = [
    `Wrote ${output.map((f) => join(dir, f.name)).join(', ')}`,
    `subject:  ${describeCertificate(issued.certPem).subject}`,
    `issuer:   ${describeCertificate(ca.certPem).subject}`,
    `x5t#S256: ${issued.thumbprint}`,
  ];
  if (password === undefined) lines.push(`PKCS#12 skipped: no password (give --p12-password, or set ${envName('p12-password')} or ${tutorialPasswordVariable}).`);
  console.log(lines.join('\n'));
  return 0;
}

async function inspectCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const help = formatHelp(
    'portcullis certs inspect FILE|- [--json]',
    'Shows a certificate (PEM or DER; the first of a chain file): subject, issuer, names, validity, key, SHA-256 fingerprint and the RFC 8705 x5t#S256 to compare with a token\'s cnf.',
    inspectFlags,
  );
  const { values, positionals } = parseFlags(argv, inspectFlags, env);
  if (values['help'] === true) return (console.log(help), 0);
  const file = positionals[0];
  if (file === undefined || positionals.length > 1) return usageError(file === undefined ? 'FILE is required' : 'give one FILE', help);
  const bytes = file === '-' ? await readStdin() : await readFile(file);
  const parsed = (() => {
    try {
      return readCertificateFile(bytes);
    } catch (error) {
      throw error instanceof TypeError ? new TypeError(`${file}: ${error.message}`) : error;
    }
  })();
  const first = parsed.certificatesPem[0] ?? '';
  const now = new Date();
  const description = describeCertificate(first, now);
  const count = parsed.certificatesPem.length;
  if (values['json'] === true) {
    console.log(JSON.stringify({ file, format: parsed.format, certificates_in_file: count, ...description }, null, 2));
  } else {
    const where = count > 1 ? ` (certificate 1 of ${count}; the others are not shown)` : '';
    console.log(`${`file:`.padEnd(21)}${file} (${parsed.format.toUpperCase()})${where}\n${formatCertificateDescription(description, now)}`);
  }
  return 0;
}

/** The password from --p12-password / PORTCULLIS_P12_PASSWORD (via parseFlags), else PKCS12_PASSWORD. */
function resolvePassword(argv: readonly string[], values: FlagValues, env: NodeJS.ProcessEnv): string | undefined {
  const fromFlags = stringFlag(values, 'p12-password');
  const fromTutorial = env[tutorialPasswordVariable];
  const password = fromFlags ?? (fromTutorial === undefined || fromTutorial === '' ? undefined : fromTutorial);
  if (password === undefined) return undefined;
  if ([...password].length < 6) {
    const onCommandLine = argv.some((a) => a === '--p12-password' || a.startsWith('--p12-password='));
    const source = fromFlags === undefined ? tutorialPasswordVariable : onCommandLine ? '--p12-password' : envName('p12-password');
    throw new TypeError(`${source}: the PKCS#12 password must be at least 6 characters (keytool refuses shorter ones); nothing was written`);
  }
  return password;
}

async function loadCa(dir: string): Promise<CertificateAuthority> {
  const read = async (name: string) => {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new TypeError(`${join(dir, name)} not found; make the CA first with 'portcullis certs init --dir ${dir}'`);
      }
      throw error;
    }
  };
  // One after the other, so a directory missing both names the certificate every time.
  const certPem = await read(files.caCert);
  const keyPem = await read(files.caKey);
  try {
    return await loadCertificateAuthority({ certPem, keyPem });
  } catch (error) {
    if (error instanceof TypeError) throw new TypeError(`${join(dir, files.caCert)}: ${error.message}`);
    throw error;
  }
}

function commonNameOf(subject: string): string | undefined {
  try {
    return new x509.Name(subject).getField('CN')[0];
  } catch {
    throw new TypeError(`--subject is not a distinguished name like 'CN=app, O=Org': ${subject}`);
  }
}

function fileNameOf(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+/, '') || 'client';
}

// The CA, server and trust-store files made by init are not client files; --force must not replace them.
function checkOutName(out: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(out)) throw new TypeError(`--out must be a plain file name (letters, digits, '.', '_', '-'), got '${out}'`);
  const reserved = ['rootCA', 'server', 'truststore'];
  if (reserved.includes(out)) throw new TypeError(`--out '${out}' would replace files made by 'certs init'; choose another name`);
}

function urlHost(host: string): string {
  const plain = host.replace(/^\[(.*)\]$/, '$1');
  return plain.includes(':') ? `[${plain}]` : plain;
}

function usageError(message: string, help: string): number {
  console.error(`portcullis certs: ${message}\n\n${help}`);
  return 2;
}

function refuse(sub: string, error: FileExistsError): number {
  console.error(`portcullis certs ${sub}: ${error.message}`);
  return 1;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
