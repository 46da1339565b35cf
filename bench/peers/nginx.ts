/**
 * nginx as a reference: an HTTP proxy, and an HTTPS proxy that asks for a client certificate
 * (`ssl_verify_client optional`, 403 unless it verified) — the ceiling for an mTLS proxy. nginx
 * cannot verify a JWT without a module, so it has no rows in the token scenarios. It also serves as
 * the benchmark's upstream (a fixed 200), the same one behind every program measured.
 * `keepalive_requests` is raised on both sides: nginx's default of 1000 would measure handshakes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPinned, waitForPort, type Program } from '../lib/processes.js';

export interface NginxPorts {
  readonly http: number;
  readonly https: number;
}

export interface TlsFiles {
  readonly serverCert: string;
  readonly serverKey: string;
  readonly caCert: string;
}

function baseConfig(dir: string): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_rlimit_nofile 19000;
events { worker_connections 16000; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
`;
}

async function start(name: string, dir: string, cpus: string, config: string, port: number): Promise<Program> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'nginx.conf');
  await writeFile(file, config);
  const program = startPinned(name, cpus, 'nginx', ['-c', file, '-p', dir]);
  await waitForPort(port);
  return program;
}

/** The upstream every program proxies to: a fixed JSON 200, also on `extraPorts` (the targets of a balanced upstream). */
export async function startNginxUpstream(dir: string, cpus: string, port: number, extraPorts: readonly number[] = []): Promise<Program> {
  const config = `${baseConfig(dir)}
  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;${extraPorts.map((p) => `\n    listen 127.0.0.1:${p} reuseport backlog=4096;`).join('')}
    location / { default_type application/json; return 200 '{"ok":true}'; }
  }
}
`;
  return start('upstream (nginx, fixed 200)', dir, cpus, config, port);
}

export async function startNginxProxy(dir: string, cpus: string, ports: NginxPorts, upstreamPort: number, tls: TlsFiles): Promise<Program> {
  const proxy = `proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection "";`;
  const config = `${baseConfig(dir)}
  upstream up { server 127.0.0.1:${upstreamPort}; keepalive 128; keepalive_requests 100000000; keepalive_timeout 300s; }
  server {
    listen 127.0.0.1:${ports.http} backlog=4096;
    location / { ${proxy} }
  }
  server {
    listen 127.0.0.1:${ports.https} ssl backlog=4096;
    ssl_certificate ${tls.serverCert};
    ssl_certificate_key ${tls.serverKey};
    ssl_client_certificate ${tls.caCert};
    ssl_verify_client optional;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      if ($ssl_client_verify != SUCCESS) { return 403; }
      ${proxy}
    }
  }
}
`;
  return start('nginx', dir, cpus, config, ports.https);
}
