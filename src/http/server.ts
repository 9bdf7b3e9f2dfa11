import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { ConfigError } from '../errors.js';

export interface RunningServer {
  server: Server;
  /** The bound port (useful when asked for port 0). */
  port: number;
  /**
   * Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes what remains.
   */
  close(graceMs?: number): Promise<void>;
}

/** Listens on host:port; a port in use is a ConfigError naming it, not a stack trace. */
export function listen(app: Express, host: string, port: number): Promise<RunningServer> {
  const server = createServer(app);
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
      resolve({ server, port: bound, close: (graceMs = 10000) => closeGracefully(server, graceMs) });
    });
  });
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
