import type { Server } from 'node:net';
import type { Socket } from 'node:net';

/**
 * Listens on 127.0.0.1:<port> (0 = ephemeral), tracking open sockets in `sockets` so that
 * close() can destroy them (keep-alive and watch connections would hold the server open).
 * Resolves with the port actually bound.
 */
export async function listenOnLoopback(server: Server, port: number, sockets: Set<Socket>): Promise<number> {
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : port;
}

/** Stops accepting, ends every open connection (watches, keep-alive) and waits for the close. */
export async function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
  for (const s of sockets) s.destroy();
  sockets.clear();
  await closed;
}
