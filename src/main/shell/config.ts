/**
 * What the desktop app takes from its environment (it has no command line of its own): where to
 * listen, and, in development only, the dev server's URL. Pure, so the rules are tested directly.
 */
import { DEFAULT_PORT, DEFAULT_SECURE_PORT } from '../app/service';

export interface DesktopListen {
  host: string;
  port: number;
  securePort: number;
}

/** LOCALDLS_HOST, LOCALDLS_PORT, LOCALDLS_SECURE_PORT: the ports and address phones connect to. */
export function desktopListen(env: Record<string, string | undefined>): DesktopListen {
  return {
    host: env.LOCALDLS_HOST?.trim() || '0.0.0.0',
    port: portFrom(env, 'LOCALDLS_PORT', DEFAULT_PORT),
    securePort: portFrom(env, 'LOCALDLS_SECURE_PORT', DEFAULT_SECURE_PORT),
  };
}

function portFrom(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) throw new Error(`${name}="${raw.slice(0, 40)}" is not a port: give a number from 1 to 65535 (0 picks a free one), or unset it for the default ${fallback}`);
  return Number(raw);
}

/**
 * The dev server's URL (electron-vite dev sets ELECTRON_RENDERER_URL), only when running from
 * the sources: a packaged app always loads its own files, so an environment variable cannot
 * point it, and the IPC trust that goes with its page, at another origin. Even in development
 * the URL must be http(s) on this machine.
 */
export function devRendererUrl(env: Record<string, string | undefined>, packaged: boolean): string | null {
  const raw = env.ELECTRON_RENDERER_URL;
  if (packaged || raw === undefined || raw === '') return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`ELECTRON_RENDERER_URL="${raw.slice(0, 80)}" is not a URL: unset it, or let \`npm run dev\` set it`);
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  if (!/^https?:$/.test(url.protocol) || !loopback) {
    throw new Error(`ELECTRON_RENDERER_URL=${url.href} is not a dev server on this machine (http://localhost:PORT or 127.0.0.1): unset it`);
  }
  return url.href;
}
