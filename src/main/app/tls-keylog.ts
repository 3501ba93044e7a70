/**
 * The optional TLS key log: every TLS secret of the WPI listeners appended to one file in the NSS
 * key-log format (`CLIENT_RANDOM …`, `CLIENT_HANDSHAKE_TRAFFIC_SECRET …`, one per line), so that a
 * packet capture of the same session opens decrypted in Wireshark. Off unless asked for: the
 * file lets whoever reads it read every exchange, secrets included, so it is created 0600 and an
 * existing one is narrowed to its owner before anything is written.
 */
import { closeSync, constants, fchmodSync, fstatSync, openSync, writeSync } from 'node:fs';
import { accessError, PRIVATE_FILE_MODE } from '../files/private-files';

export const KEYLOG_WARNING =
  'the TLS key log lets anyone who reads it decrypt every captured exchange, passwords and keys included: keep it private and delete it after use';

export class TlsKeyLog {
  private fd: number | null;

  constructor(readonly path: string) {
    let fd: number;
    try {
      // O_NOFOLLOW: a link planted at the path is refused instead of followed.
      fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0), PRIVATE_FILE_MODE);
    } catch (e) {
      throw accessError(e, path, 'open the TLS key log');
    }
    try {
      if (!fstatSync(fd).isFile()) throw new Error(`the TLS key log ${path} is not a regular file: name a file, e.g. ./keys.log`);
      if (process.platform !== 'win32') fchmodSync(fd, PRIVATE_FILE_MODE);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    this.fd = fd;
  }

  /** One line from Node's `keylog` event (already NSS format, newline included). */
  write(line: Buffer): void {
    if (this.fd === null) return;
    writeSync(this.fd, line.at(-1) === 0x0a ? line : Buffer.concat([line, Buffer.from('\n')]));
  }

  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}
