import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { RuntimeHolder } from '../runtime/runtime-holder.js';

export interface AdminOptions {
  readonly holder: RuntimeHolder;
  readonly logger: Logger;
  readonly version: string;
  readonly nodeId: string;
  readonly enabledPlugins: readonly string[];
  /** Live counters of the proxy listeners. */
  readonly stats: () => { connections_active: number; total_requests: number };
}

/** The admin API: `GET /` and `GET /status` in this release; the entity API builds on it. */
export function createAdminHandler(options: AdminOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { message: 'Method not allowed' });
      if (path === '/status') return send(res, 200, status(options));
      if (path === '/') {
        return send(res, 200, {
          version: options.version,
          node_id: options.nodeId,
          tagline: 'Welcome to portcullis',
          plugins: { available_on_server: Object.fromEntries(options.enabledPlugins.map((p) => [p, true])), enabled_in_cluster: [] },
        });
      }
      return send(res, 404, { message: 'Not found' });
    } catch (error) {
      options.logger.error({ err: error }, 'admin request failed');
      return send(res, 500, { message: 'An unexpected error occurred' });
    }
  };
}

function status(options: AdminOptions): Record<string, unknown> {
  const runtime = options.holder.current;
  const config = runtime.config;
  return {
    ready: true,
    configuration_hash: runtime.hash,
    config_version: runtime.version,
    config_loaded_at: runtime.loadedAt.toISOString(),
    counts: {
      services: config.services.length,
      routes: config.routes.length,
      plugins: config.plugins.length,
      consumers: config.consumers.length,
      certificates: config.certificates.length,
      ca_certificates: config.ca_certificates.length,
    },
    server: options.stats(),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
