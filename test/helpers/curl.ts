import { runCommand } from './cli.js';

export interface CurlResponse {
  readonly status: number;
  /** Lower-case names; a repeated header's values joined with ', '. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  json<T = Record<string, unknown>>(): T;
}

/**
 * A request made by the curl binary (a client independent of Node's), as a user would type it:
 * `args` are curl's own (`-H`, `-X`, `--cert`, …) before the URL. The response head is parsed
 * from `-D -` (the last head, after any 100 Continue).
 */
export async function curl(url: string, args: readonly string[] = []): Promise<CurlResponse> {
  const run = await runCommand('curl', ['-sS', '-k', '-D', '-', ...args, url]);
  if (run.code !== 0) throw new Error(`curl ${args.join(' ')} ${url} failed (${run.code}): ${run.stderr}`);
  const heads = run.stdout.split('\r\n\r\n');
  let index = 0;
  while (index < heads.length - 1 && / 1\d\d /.test(heads[index]?.split('\r\n')[0] ?? '') && !/ 101 /.test(heads[index] ?? '')) index++;
  const [statusLine = '', ...lines] = (heads[index] ?? '').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const body = heads.slice(index + 1).join('\r\n\r\n');
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body,
    json: <T>() => JSON.parse(body) as T,
  };
}
