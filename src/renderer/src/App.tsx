/**
 * The app frame: navigation, the current view and the status bar. The traffic feed lives here, so
 * the list keeps its rows and position while another view is open.
 */
import { useEffect, useMemo, useState } from 'react';
import type { LocalDlsApi, Unsubscribe } from '../../shared/api';
import { ApiContext } from './api/ApiContext';
import type { ConnectionState } from './api/ws-client';
import { BootstrapWizard } from './bootstrap/BootstrapWizard';
import { ToastProvider } from './common/Toasts';
import { DevicePage } from './devices/DevicePage';
import { DevicesView } from './devices/DevicesView';
import { JobsView } from './jobs/JobsView';
import { href, useRoute } from './lib/route';
import { SetupView } from './status/SetupView';
import { StatusBar } from './status/StatusBar';
import { useStatus } from './status/use-status';
import { TrafficFeed } from './traffic/traffic-feed';
import { TrafficView } from './traffic/TrafficView';
import './i18n';

export interface AppProps {
  api: LocalDlsApi;
  onConnection?: (listener: (state: ConnectionState, detail: string | null) => void) => Unsubscribe;
}

export function App({ api, onConnection }: AppProps) {
  const feed = useMemo(() => new TrafficFeed(api), [api]);
  const route = useRoute();
  const [connection, setConnection] = useState<{ state: ConnectionState; detail: string | null }>({ state: 'open', detail: null });
  const status = useStatus(api);
  const [reloads, setReloads] = useState(0);
  const refreshStatus = status.refresh;

  useEffect(() => {
    feed.start();
    return () => feed.stop();
  }, [feed]);

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
      if (state === 'closed') wasClosed = true;
    });
  }, [onConnection, feed, refreshStatus]);

  return (
    <ApiContext.Provider value={api}>
      <ToastProvider>
      <div className="app">
        <header className="topbar">
          <div className="brand">
            <span className="brand-mark" aria-hidden>◆</span> LocalDLS
          </div>
          <nav className="tabs" aria-label="Views">
            <a href={href('traffic')} className={route.view === 'traffic' ? 'active' : ''}>Traffic</a>
            <a href={href('devices')} className={route.view === 'devices' || route.view === 'device' ? 'active' : ''}>
              Devices{status.value ? <span className="pill">{status.value.deviceCount}</span> : null}
            </a>
            <a href={href('jobs')} className={route.view === 'jobs' ? 'active' : ''}>Jobs</a>
            <a href={href('bootstrap')} className={route.view === 'bootstrap' ? 'active' : ''}>Secure Mode</a>
            <a href={href('setup')} className={route.view === 'setup' ? 'active' : ''}>Setup</a>
          </nav>
          <div className="topbar-right">
            {connection.state !== 'open' ? (
              <span className={`conn conn-${connection.state}`} role="status">
                {connection.state === 'refused' ? connection.detail : connection.state === 'connecting' ? 'Connecting…' : 'Connection lost, reconnecting…'}
              </span>
            ) : null}
          </div>
        </header>
        <main className="view" key={route.view === 'traffic' ? 'traffic' : reloads}>
          {route.view === 'traffic' ? <TrafficView feed={feed} route={route} /> : null}
          {route.view === 'devices' ? <DevicesView /> : null}
          {route.view === 'device' && route.mac ? <DevicePage mac={route.mac} /> : null}
          {route.view === 'jobs' ? <JobsView key={route.params.toString()} route={route} /> : null}
          {route.view === 'bootstrap' ? <BootstrapWizard route={route} /> : null}
          {route.view === 'setup' ? <SetupView status={status.value} /> : null}
        </main>
        <StatusBar status={status.value} error={status.error} />
      </div>
      </ToastProvider>
    </ApiContext.Provider>
  );
}
