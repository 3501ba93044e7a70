/**
 * What the desktop app tells a person when it cannot start or hits a fatal error: a dialog title
 * and text that say what happened, to which file or port, and what to do. Pure (no electron), so
 * the wording is tested directly; the shell shows it and exits.
 */
import type { PortOwner } from './port-owner';

export interface ShellDialog {
  title: string;
  message: string;
}

export interface StartupContext {
  /** The data directory and its database file. */
  dataDir: string;
  databaseFile: string;
  /** The better-sqlite3 build the app tried to load (undefined: the one in node_modules). */
  nativeBinding?: string;
  packaged: boolean;
  /** Who holds the port, when the error is a port in use and that could be found out. */
  portOwner?: PortOwner | null;
}

type Failure = Error & { code?: string; port?: number; host?: string };

export function explainStartupError(error: unknown, ctx: StartupContext): ShellDialog {
  const err: Failure = error instanceof Error ? error : new Error(String(error));
  const text = err.message;
  if (err.code === 'EADDRINUSE') {
    const where = err.port !== undefined ? `port ${err.port}${err.host ? ` on ${err.host}` : ''}` : 'a port it needs';
    const holder = ctx.portOwner ? `${ctx.portOwner.name} (process ${ctx.portOwner.pid})` : 'another program';
    return {
      title: 'LocalDLS cannot listen for phones',
      message:
        `${cap(where)} is in use by ${holder}.\n\n` +
        'Quit that program and start LocalDLS again. If it is the LocalDLS service started from a terminal (localdls serve), stop it there. ' +
        'To use other ports instead, start LocalDLS with LOCALDLS_PORT (Default Mode) or LOCALDLS_SECURE_PORT (Secure Mode) set; phones must then be given the new port.',
    };
  }
  const otherService = /another LocalDLS service(?: \(process (\d+)\))? is running on the data folder/.exec(text);
  if (otherService) {
    return {
      title: 'LocalDLS is already running',
      message:
        `Another LocalDLS service${otherService[1] ? ` (process ${otherService[1]})` : ''} is using the data folder ${ctx.dataDir}.\n\n` +
        'Quit it (another copy of the app, or localdls serve in a terminal) and start LocalDLS again.',
    };
  }
  if (isNativeLoadFailure(err)) {
    const file = ctx.nativeBinding ?? 'better-sqlite3 in node_modules (built for Node, not for Electron)';
    return {
      title: 'LocalDLS cannot load its database engine',
      message:
        `The SQLite module ${file} could not be loaded: ${firstLine(text)}\n\n` +
        (ctx.packaged
          ? 'This installation is incomplete or damaged: install LocalDLS again.'
          : 'Build it for Electron with `node scripts/electron-native.mjs` (npm start and npm run dev do this), then start again.'),
    };
  }
  if (err.code === 'SQLITE_NOTADB' || err.code === 'SQLITE_CORRUPT' || /malformed|not a database/i.test(text)) {
    return {
      title: 'LocalDLS cannot open its database',
      message:
        `The database ${ctx.databaseFile} is damaged (${firstLine(text)}).\n\n` +
        `Quit, move that file (and any ${ctx.databaseFile}-wal and -shm beside it) to another folder to keep a copy, and start LocalDLS again: ` +
        'it then starts with an empty database. The keys and certificates in the pki and tls folders beside it are kept.',
    };
  }
  if (/^SQLITE_(BUSY|LOCKED)/.test(err.code ?? '') || /database is locked/i.test(text)) {
    return {
      title: 'LocalDLS cannot open its database',
      message: `The database ${ctx.databaseFile} is in use by another process (${firstLine(text)}). Quit the other LocalDLS (the app or localdls serve) and start again.`,
    };
  }
  if (/key protector|passphrase|keyring|sealed/i.test(text)) {
    return { title: 'LocalDLS cannot open its keys', message: text };
  }
  if (err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EROFS' || err.code === 'ENOSPC') {
    return { title: 'LocalDLS cannot write its data', message: `${text}\n\nLocalDLS keeps its data in ${ctx.dataDir}: check that this folder is writable and the disk is not full.` };
  }
  return { title: 'LocalDLS could not start', message: `${text}\n\nLocalDLS keeps its data in ${ctx.dataDir}.` };
}

/** A fatal error after start-up (an uncaught exception in the main process). */
export function explainFatalError(error: unknown, ctx: StartupContext): ShellDialog {
  const startup = explainStartupError(error, ctx);
  if (startup.title !== 'LocalDLS could not start') return startup;
  const err = error instanceof Error ? error : new Error(String(error));
  return {
    title: 'LocalDLS stopped after an internal error',
    message: `${firstLine(err.message)}\n\nThe service was stopped and the database closed. Start LocalDLS again; if this repeats, report it with the text above.`,
  };
}

function isNativeLoadFailure(err: Failure): boolean {
  if (err.code === 'ERR_DLOPEN_FAILED') return true;
  if (/NODE_MODULE_VERSION|invalid ELF header|not a valid Win32 application|did not self-register|mach-o|wrong ELF class|dlopen/i.test(err.message)) return true;
  return err.code === 'MODULE_NOT_FOUND' && /better[-_]sqlite3/.test(err.message);
}

function firstLine(s: string): string {
  return (s.split('\n')[0] ?? '').slice(0, 300);
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
