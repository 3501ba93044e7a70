/** Binding and closing a listener, with errors that say what to do. Shared by every listener. */
import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * Binds; resolves with the port actually bound (0 picks a free one). `what` names the port for a
 * person ("Secure-Mode port 18444 on 0.0.0.0"), `flag` the option that changes it. `backlog`:
 * connections the kernel queues before they are accepted (Node's default 511; Linux caps it at
 * net.core.somaxconn).
 */
export function bind(server: Server, port: number, host: string, what: string, flag: string, backlog?: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(bindError(err, `${what} port ${port} on ${host}`, host, flag, port));
    server.once('error', onError);
    server.listen({ port, host, ...(backlog ? { backlog } : {}) }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function closeServer(server: Server & { closeAllConnections?: () => void }): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

function bindError(err: NodeJS.ErrnoException, what: string, host: string, flag: string, port: number): Error {
  // code/port/host travel with the message, so the desktop app can say which program holds the port.
  if (err.code === 'EADDRINUSE') return Object.assign(new Error(`${what} is in use by another program: choose another port (${flag}) or stop that program`), { code: 'EADDRINUSE', port, host });
  if (err.code === 'EACCES') return new Error(`${what} needs privileges this user does not have: choose a port above 1023`);
  if (err.code === 'EADDRNOTAVAIL') return new Error(`${host} is not an address of this machine: choose another --host`);
  return new Error(`cannot listen on ${what}: ${err.message}`);
}
