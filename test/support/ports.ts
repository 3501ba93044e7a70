import { createServer } from 'node:net';

/**
 * A loopback port free right now and other than `not` (the OS never hands out a port in use, but
 * may hand out the same free one twice). Another process could take it before it is used: tests
 * use it at once.
 */
export async function freePortOtherThan(not: number): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    if (port !== not) return port;
  }
}
