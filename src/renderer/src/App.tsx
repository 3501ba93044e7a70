/**
 * The app frame: navigation, the current view and the status bar. The traffic feed lives here, so
 * the list keeps its rows and position while another view is open. Preferences (language, light
 * or dark) sit in the top bar; `?` lists the keyboard shortcuts.
 */
import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { LocalDlsApi, Unsubscribe } from '../../shared/api';
import { ApiContext } from './api/ApiContext';
import { NO_TOKEN } from './api/connect';
import { NOT_REACHABLE } from './api/ws-client';
import type { ConnectionState } from './api/ws-client';
import { ShortcutHelp, useShortcuts } from './app/Shortcuts';
import { THEMES, useTheme, type Theme } from './app/theme';
import { ToastProvider } from './common/Toasts';
import { LANGUAGES, setLanguage, type Language } from './i18n';
import { RelayBanner } from './relay/RelayBanner';
import { LadderView } from './ladder/LadderView';
import { href, useRoute } from './lib/route';
import { useNavCounts } from './lib/use-nav-counts';
import { StatusBar } from './status/StatusBar';
import { StatusContext } from './status/StatusContext';
import { useStatus } from './status/use-status';
import { TrafficFeed } from './traffic/traffic-feed';
import { TrafficView } from './traffic/TrafficView';
import { CodeText } from './common/CodeText';

// Views other than the traffic list load when first opened: the page's start-up parses less.
const BootstrapWizard = lazy(() => import('./bootstrap/BootstrapWizard').then((m) => ({ default: m.BootstrapWizard })));
const DevicePage = lazy(() => import('./devices/DevicePage').then((m) => ({ default: m.DevicePage })));
const DevicesView = lazy(() => import('./devices/DevicesView').then((m) => ({ default: m.DevicesView })));
const JobsView = lazy(() => import('./jobs/JobsView').then((m) => ({ default: m.JobsView })));
const RolloutView = lazy(() => import('./rollout/RolloutView').then((m) => ({ default: m.RolloutView })));
const SetupView = lazy(() => import('./status/SetupView').then((m) => ({ default: m.SetupView })));
const TimelineView = lazy(() => import('./timeline/TimelineView').then((m) => ({ default: m.TimelineView })));

export interface AppProps {
  api: LocalDlsApi;
  /** The traffic feed, started before the first render (main.tsx): its rows are asked for first. */
  feed?: TrafficFeed;
  onConnection?: (listener: (state: ConnectionState, detail: string | null) => void) => Unsubscribe;
}

function Preferences() {
  const { t, i18n } = useTranslation('common');
  const [theme, setTheme] = useTheme();
  return (
    <div className="prefs">
      <select className="input input-small" aria-label={t('language')} value={i18n.language} onChange={(e) => setLanguage(e.target.value as Language)}>
        {LANGUAGES.map((l) => <option key={l} value={l}>{t(`languages.${l}`)}</option>)}
      </select>
      <select className="input input-small" aria-label={t('theme.label')} value={theme} onChange={(e) => setTheme(e.target.value as Theme)}>
        {THEMES.map((th) => <option key={th} value={th}>{t(`theme.${th}`)}</option>)}
      </select>
    </div>
  );
}

export function App({ api, onConnection, feed: given }: AppProps) {
  const { t, i18n } = useTranslation('common');
  const feed = useMemo(() => given ?? new TrafficFeed(api), [api, given]);
  // First of the start-up's requests (effects run in order; start() once): the list's rows are
  // what the page is opened for.
  useEffect(() => {
    feed.start();
    return () => feed.stop();
  }, [feed]);
  const route = useRoute();
  const [connection, setConnection] = useState<{ state: ConnectionState; detail: string | null }>({ state: 'open', detail: null });
  const status = useStatus(api);
  const [reloads, setReloads] = useState(0);
  const counts = useNavCounts(api, reloads);
  const [help, setHelp] = useState(false);
  const refreshStatus = status.refresh;
  useShortcuts(useCallback(() => setHelp(true), []));

  useEffect(() => {
    document.documentElement.lang = i18n.language;
  }, [i18n.language]);

  // The counts in the status bar and the navigation follow device changes at once, not only the
  // service's periodic status (a device added by the CLI, a purge).
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const soon = () => {
      timer ??= setTimeout(() => {
        timer = null;
        refreshStatus();
      }, 300);
    };
    const off = api.onDevicesChanged(soon);
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [api, refreshStatus]);

  useEffect(() => {
    if (!onConnection) return;
    let wasClosed = false;
    return onConnection((state, detail) => {
      setConnection({ state, detail });
      // Events sent while the socket was away are lost: reload what is shown.
      if (state === 'open' && (wasClosed || detail === 'resync')) {
        void feed.reload();
        refreshStatus();
        // The other views load afresh (devices, jobs, a bootstrap run's states).
        setReloads((n) => n + 1);
      }
      if (state === 'closed' || state === 'refused') wasClosed = true;
    });
  }, [onConnection, feed, refreshStatus]);

  const connected = connection.state === 'open';
  return (
    <ApiContext.Provider value={api}>
      <StatusContext.Provider value={status.value}>
      <ToastProvider>
      <div className="app">
        <header className="topbar">
          <div className="brand">
            <span className="brand-mark" aria-hidden>◆</span> LocalDLS
          </div>
          <nav className="tabs" aria-label={t('nav.label')}>
            <a href={href('traffic')} className={route.view === 'traffic' ? 'active' : ''}>
              {t('nav.traffic')}{counts.errors ? <span className="pill pill-error" title={t('nav.errorsTitle', { count: counts.errors })} data-testid="nav-errors">{counts.errors}</span> : null}
            </a>
            <a href={href('devices')} className={route.view === 'devices' || route.view === 'device' ? 'active' : ''}>
              {t('nav.devices')}{status.value ? <span className="pill" data-testid="nav-device-count">{status.value.deviceCount}</span> : null}
            </a>
            <a href={href('jobs')} className={route.view === 'jobs' ? 'active' : ''}>
              {t('nav.jobs')}{counts.waitingJobs ? <span className="pill" title={t('nav.waitingTitle', { count: counts.waitingJobs })} data-testid="nav-jobs">{counts.waitingJobs}</span> : null}
            </a>
            <a href={href('rollouts')} className={route.view === 'rollouts' ? 'active' : ''}>{t('nav.rollouts')}</a>
            <a href={href('bootstrap')} className={route.view === 'bootstrap' ? 'active' : ''}>{t('nav.secure')}</a>
            <a href={href('setup')} className={route.view === 'setup' ? 'active' : ''}>{t('nav.setup')}</a>
          </nav>
          <div className="topbar-right">
            {connection.state === 'connecting' || connection.state === 'closed' ? (
              <span className={`conn conn-${connection.state}`} role="status">
                {connection.state === 'connecting' ? t('connection.connecting') : t('connection.lost')}
              </span>
            ) : null}
            <button type="button" className="btn btn-small btn-icon" aria-label={t('shortcuts.open')} title={t('shortcuts.open')} onClick={() => setHelp(true)}>?</button>
            <Preferences />
          </div>
        </header>
        <RelayBanner relay={status.value?.relay} />
        {connection.state === 'refused' ? (
          <div className="note note-error refused" role="alert" data-testid="connection-refused">
            <strong>{t('connection.refusedTitle')}</strong>
            <p><CodeText text={connection.detail === NO_TOKEN ? t('connection.noToken') : connection.detail === NOT_REACHABLE ? t('connection.notReachable') : (connection.detail ?? '')} /></p>
          </div>
        ) : null}
        <main className="view" key={route.view === 'traffic' ? 'traffic' : reloads}>
          {route.view === 'traffic' ? <TrafficView feed={feed} route={route} /> : null}
          <Suspense fallback={null}>
          {route.view === 'devices' ? <DevicesView /> : null}
          {route.view === 'device' && route.mac ? <DevicePage mac={route.mac} /> : null}
          {route.view === 'jobs' ? <JobsView key={route.params.toString()} route={route} /> : null}
          {route.view === 'bootstrap' ? <BootstrapWizard route={route} /> : null}
          {route.view === 'setup' ? <SetupView status={status.value} /> : null}
          {route.view === 'interaction' && route.id !== undefined ? <LadderView key={route.id} id={route.id} /> : null}
          {route.view === 'timeline' && route.mac ? <TimelineView key={route.mac} mac={route.mac} /> : null}
          {route.view === 'rollouts' ? <RolloutView route={route} /> : null}
          </Suspense>
        </main>
        <StatusBar status={status.value} error={status.error} connected={connected} />
        {help ? <ShortcutHelp onClose={() => setHelp(false)} /> : null}
      </div>
      </ToastProvider>
      </StatusContext.Provider>
    </ApiContext.Provider>
  );
}
