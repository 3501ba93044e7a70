/** The bottom bar: each listener with its state and TLS profile, the data folder, the counts. */
import type { ListenerStatus, ServiceStatus } from '../../../shared/api';
import { count } from '../lib/format';
import { href } from '../lib/route';

export function listenerLabel(l: ListenerStatus): string {
  const names: Record<string, string> = { default: 'Default Mode', secure: 'Secure Mode', dcmp: 'DCMP', 'contact-me': 'Contact-me' };
  return names[l.kind] ?? l.kind;
}

export function StatusBar({ status, error }: { status: ServiceStatus | null; error: string | null }) {
  return (
    <footer className="statusbar" aria-label="Service status">
      {error ? <span className="sb-item sb-error">Status unavailable: {error}</span> : null}
      {status?.listeners.length === 0 ? <span className="sb-item muted">No listener started</span> : null}
      {status?.listeners.map((l) => (
        <span key={`${l.kind}-${l.port}`} className="sb-item" title={l.error ?? undefined}>
          <span className={`dot dot-${l.state}`} aria-hidden />
          {listenerLabel(l)} <span className="mono">{l.host}:{l.port}</span>
          <span className="muted"> · TLS {l.tlsProfile}</span>
          {l.state !== 'listening' ? <span className="sb-error"> · {l.state}{l.error ? `: ${l.error}` : ''}</span> : null}
        </span>
      ))}
      {status ? (
        <>
          <span className="sb-item muted">
            {count(status.deviceCount)} devices · {count(status.exchangeCount)} exchanges
          </span>
          <span className="sb-item muted sb-grow mono" title="Data folder">{status.dataDir}</span>
          <a className="sb-item" href={href('setup')}>Phone setup: DLS address &amp; DHCP…</a>
          <span className="sb-item muted">v{status.version}</span>
        </>
      ) : null}
    </footer>
  );
}
