/** The bottom bar: each listener with its state and TLS profile, the data folder, the counts. */
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import type { ListenerStatus, ServiceStatus } from '../../../shared/api';
import { count, zoneLabel } from '../lib/format';
import { href } from '../lib/route';

export function listenerLabel(l: Pick<ListenerStatus, 'kind'>, t: TFunction<'status'>): string {
  return t(`listener.${l.kind}`, { defaultValue: l.kind });
}

export interface StatusBarProps {
  status: ServiceStatus | null;
  error: string | null;
  /** False while the page has no connection to the service: what is shown may be stale. */
  connected?: boolean;
}

export function StatusBar({ status, error, connected = true }: StatusBarProps) {
  const { t } = useTranslation('status');
  return (
    <footer className={`statusbar ${connected ? '' : 'statusbar-offline'}`} aria-label={t('bar.label')}>
      {!connected ? <span className="sb-item sb-error" data-testid="service-unreachable">{t('bar.unreachable')}</span> : null}
      {error ? <span className="sb-item sb-error">{t('bar.unavailable', { error })}</span> : null}
      {status?.listeners.length === 0 ? <span className="sb-item muted">{t('bar.noListener')}</span> : null}
      {status?.listeners.map((l) => {
        // Not connected: the last known state is unknown now (grey), whatever it was. Relaying, the
        // secure port listens only to record the phones' attempts (they are refused): amber, and said.
        const recordsOnly = l.kind === 'secure' && !!status.relay && l.state === 'listening';
        const dot = !connected ? 'unknown' : recordsOnly ? 'records-only' : l.state;
        return (
          <span key={`${l.kind}-${l.port}`} className="sb-item" title={l.error ?? undefined}>
            <span className={`dot dot-${dot}`} data-testid={`dot-${l.kind}`} aria-hidden />
            {listenerLabel(l, t)} <span className="mono">{l.host}:{l.port}</span>
            <span className="muted"> · TLS {t(`tls.${l.tlsProfile}`, { defaultValue: l.tlsProfile })}</span>
            {l.state !== 'listening' ? <span className="sb-error"> · {t(`listenerState.${l.state}`)}{l.error ? `: ${l.error}` : ''}</span> : null}
            {recordsOnly ? <span className="sb-warn" data-testid="secure-records-only"> · {t('bar.secureNotRelayed')}</span> : null}
          </span>
        );
      })}
      {status ? (
        <>
          {status.tlsKeyLog ? (
            <span className="sb-item sb-warn" data-testid="status-keylog" title={t('bar.keyLogTitle', { path: status.tlsKeyLog.path })}>{t('bar.keyLog')}</span>
          ) : null}
          <span className="sb-item muted" data-testid="status-counts">
            {t('bar.devices', { count: status.deviceCount, n: count(status.deviceCount) })} · {t('bar.exchanges', { count: status.exchangeCount, n: count(status.exchangeCount) })}
          </span>
          <span className="sb-item muted sb-grow mono" title={t('bar.dataFolder')}>{status.dataDir}</span>
          <span className="sb-item muted" title={t('bar.timesTitle')}>{t('bar.times', { zone: zoneLabel() })}</span>
          <a className="sb-item" href={href('setup')}>{t('bar.setup')}</a>
          <span className="sb-item muted">v{status.version}</span>
        </>
      ) : null}
    </footer>
  );
}
