/**
 * The desktop app's Content-Security-Policy header (electron-practices.md §4 #7), on the app:
 * protocol and on every response the session receives, replacing whatever a response brought.
 *
 * One exception, in development only: pages from the dev server (`npm run dev`) keep their own
 * meta policy, which is the same policy plus the hashes of the dev server's inline React-refresh
 * preamble (scripts/dev-csp.ts). The shell cannot know those hashes, and its header would block
 * the preamble. A packaged app never has a dev server URL (config.ts), so never this exception.
 */
export const APP_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** The header policy for a response from `url`; null: leave the response's headers as they are. */
export function headerCspFor(url: string, devServer: string | null): string | null {
  if (devServer !== null && sameOrigin(url, devServer)) return null;
  return APP_CSP;
}

function sameOrigin(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.protocol === y.protocol && x.host === y.host;
  } catch {
    return false;
  }
}
