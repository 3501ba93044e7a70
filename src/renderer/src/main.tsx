/**
 * Start-up, in the order the first screen needs it: this small entry opens the connection and asks
 * for the list's first rows and the UI text of the language in use at once, while the browser is
 * still fetching React and the views (app/mount.tsx, preloaded by index.html), so the answers are
 * there when the first render wants them rather than asked for after it. React's code runs once
 * the socket has opened and the rows' request has left: running it is one long task, and the
 * socket's open event (which sends the queued request) would wait behind it. Its first render
 * waits for the rows.
 */
import { connect } from './api/connect';
import { i18nReady, loadAllNamespaces } from './i18n';
import { parseRoute } from './lib/route-parse';
import { TrafficFeed } from './traffic/traffic-feed';
import './styles.css';

const connection = connect(window);
const feed = new TrafficFeed(connection.api);
feed.start();

const root = document.getElementById('root') as HTMLElement;
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
// At most a moment: a handshake that hangs must not keep the page blank (the frame says "Connecting…").
const requestsLeft = Promise.race([connection.settled.then(() => true), delay(500).then(() => false)]);
// On the traffic view, once the socket has opened, the first render waits for the first rows (they
// come within milliseconds of the request, once the page's thread is free), or a moment: the frame
// rendered without them and then again with them cost a second render and layout of the page.
// Another view, or a handshake that did not finish in time, renders at once.
const onTraffic = ((): boolean => {
  try {
    return parseRoute(window.location.hash).view === 'traffic';
  } catch {
    return false; // a damaged address: the app says so once it is in
  }
})();
const firstRows = new Promise<void>((resolve) => {
  const check = () => {
    if (feed.getState().loading) return;
    off();
    resolve();
  };
  const off = feed.subscribe(check);
  check();
});
Promise.all([requestsLeft.then(async (opened) => ({ opened, ...(await import('./app/mount')) })), i18nReady]).then(
  async ([{ opened, mount }]) => {
    if (opened && onTraffic) await Promise.race([firstRows, delay(300)]);
    // For the UI benchmark's start-up split (bench/ui-bench.ts): React and the text are in.
    performance.mark('localdls:mount');
    mount(root, connection, feed);
    // The other views' text, once the first rows are painted: a view opened later need not wait.
    const rest = () => void loadAllNamespaces();
    if (typeof requestIdleCallback === 'function') requestIdleCallback(rest, { timeout: 2000 });
    else setTimeout(rest, 500);
  },
  (e: unknown) => {
    // A chunk the page could not load (a service restarted with a newer build): say so, not a blank page.
    root.textContent = `LocalDLS could not load its user interface (${e instanceof Error ? e.message : String(e)}). Reload the page.`;
  },
);
