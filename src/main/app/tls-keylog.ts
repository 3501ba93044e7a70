/**
 * The optional TLS key log: every TLS secret of the WPI listeners appended to one file in the NSS
 * key-log format (`CLIENT_RANDOM …`, `CLIENT_HANDSHAKE_TRAFFIC_SECRET …`, one per line), so that a
 * packet capture of the same session opens decrypted in Wireshark. Off unless asked for: the
 * file lets whoever reads it read every exchange, secrets included, so it is created 0600 and an
 * existing one is narrowed to its owner before anything is written. An existing file is taken only
 * when it is this user's and empty or a key log already: appending secrets to another file, and
 * narrowing its permissions (a system file, for a service run as root), is refused.
 */
import { closeSync, constants, fchmodSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { accessError, PRIVATE_FILE_MODE } from '../files/private-files';

export const KEYLOG_WARNING =
  'the TLS key log lets anyone who reads it decrypt every captured exchange, passwords and keys included: keep it private and delete it after use';

/** A line of the NSS key-log format as Node and browsers write it: a label, the client random, a secret. */
// Not `#` comments: a shell script or a file under /etc starts with one.
const KEYLOG_LINE = /^(?:CLIENT_RANDOM|CLIENT_EARLY_TRAFFIC_SECRET|CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET|EARLY_EXPORTER_SECRET) [0-9a-fA-F]{64} [0-9a-fA-F]{32,128}\r?$/;

/** Whether the file's first line is a key-log line (read from the start; appends go to the end). */
function isKeyLog(fd: number): boolean {
  const head = Buffer.alloc(512);
  const n = readSync(fd, head, 0, head.length, 0);
  const first = head.subarray(0, n).toString('latin1').split('\n')[0] ?? '';
  return KEYLOG_LINE.test(first);
}

export class TlsKeyLog {
  private fd: number | null;

  constructor(readonly path: string) {
    let fd: number;
    try {
      // O_NOFOLLOW: a link planted at the path is refused instead of followed.
      fd = openSync(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0), PRIVATE_FILE_MODE);
    } catch (e) {
      throw accessError(e, path, 'open the TLS key log');
    }
    try {
      const info = fstatSync(fd);
      if (!info.isFile()) throw new Error(`the TLS key log ${path} is not a regular file: name a file, e.g. ./keys.log`);
      const uid = process.getuid?.();
      if (uid !== undefined && info.uid !== uid) throw new Error(`${path} belongs to another user: LocalDLS writes its TLS key log only to a file of its own; name a new file`);
      // A hard link planted in a shared folder would pass every check on another file's behalf.
      if (info.nlink > 1) throw new Error(`${path} has other names (hard links): LocalDLS writes its TLS key log only to a file of its own; name a new file`);
      if (info.size > 0 && !isKeyLog(fd)) throw new Error(`${path} exists and is not a TLS key log: LocalDLS appends only to a key log it can recognise; name a new file`);
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
