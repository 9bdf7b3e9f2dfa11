import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../config.js';
import { HttpError } from './errors.js';
import { toProblem } from './problem.js';

export interface RunningServer {
  server: Server;
  /** The bound port (useful when asked for port 0). */
  port: number;
  /**
   * Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes what remains.
   */
  close(graceMs?: number): Promise<void>;
  /** Hands requests to `app` from now on (before: 503 "starting"). */
  attach(app: RequestListener): void;
}

/**
 * Listens on host:port; a port in use is a ConfigError naming it, not a stack trace. With no
 * `app`, the port is taken at once and answers 503 until `attach` is called: start-up binds
 * first, so a busy port fails before any other work (and any log line).
 */
export function listen(app: RequestListener | undefined, host: string, port: number): Promise<RunningServer> {
  let handler: RequestListener = app ?? starting;
  const server = createServer((req, res) => handler(req, res));
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10000;
  server.requestTimeout = 60000;
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      if (error.code === 'EADDRINUSE') {
        reject(new ConfigError('ERR_CONFIG_PORT_IN_USE', `PORT: ${host}:${port} is already in use`));
      } else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EACCES') {
        reject(new ConfigError('ERR_CONFIG_INVALID', `HOST/PORT: cannot listen on ${host}:${port} (${error.code})`));
      } else {
        reject(error);
      }
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const bound = (server.address() as AddressInfo).port;
      resolve({
        server,
        port: bound,
        close: (graceMs = 10000) => closeGracefully(server, graceMs),
        attach: (next) => {
          handler = next;
        },
      });
    });
  });
}

function starting(_req: IncomingMessage, res: ServerResponse): void {
  const problem = toProblem(new HttpError('ERR_HTTP_NOT_READY', 'the service is starting'), undefined);
  res.writeHead(503, { 'Content-Type': 'application/problem+json', 'Retry-After': '1' });
  res.end(JSON.stringify(problem));
}

function closeGracefully(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    // A keep-alive socket becomes idle when its in-flight request finishes; close those promptly
    // instead of waiting for the client to hang up.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    sweep.unref();
    server.close(() => {
      clearTimeout(force);
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}
