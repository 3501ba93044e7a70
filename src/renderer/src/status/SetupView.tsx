/**
 * Setup help: what to enter on a phone (WBM / local menu) as its DLS address, and the DHCP option
 * 43 bytes that hand the same address to phones automatically (wpi-protocol.md §2.8).
 */
import { useMemo, useState } from 'react';
import type { HostAddress, ListenerStatus, ServiceStatus } from '../../../shared/api';
import { CopyButton } from '../common/CopyButton';
import { colonHex, option43, plainHex } from '../lib/option43';
import { listenerLabel } from './StatusBar';
import { TlsSettings } from './TlsSetting';
import { RelaySetting } from '../relay/RelaySetting';

/** Addresses a phone can use for a listener bound to `host`. */
export function reachableAddresses(listener: ListenerStatus, addresses: HostAddress[]): HostAddress[] {
  if (listener.host === '0.0.0.0') return addresses.filter((a) => a.family === 'IPv4');
  if (listener.host === '::') return addresses;
  return addresses.filter((a) => a.address === listener.host);
}

export function SetupView({ status }: { status: ServiceStatus | null }) {
  const listener = status?.listeners.find((l) => l.kind === 'default') ?? status?.listeners[0];
  const choices = useMemo(() => (status && listener ? reachableAddresses(listener, status.addresses).filter((a) => !a.linkLocal) : []), [status, listener]);
  const [picked, setPicked] = useState<string | null>(null);
  const [custom, setCustom] = useState('');
  if (!status) return <div className="page"><p className="muted">Loading…</p></div>;
  // Default: an address the listener is bound to; else any of this machine's (a loopback-only listener shows a warning).
  const host = custom.trim() || picked || choices[0]?.address || status.addresses.find((a) => !a.linkLocal)?.address || '';
  const port = listener?.port ?? 18443;
  const opt = host ? option43(host, port) : null;
  const loopbackOnly = listener && (listener.host.startsWith('127.') || listener.host === '::1');

  return (
    <div className="page setup">
      <h1>Phone setup</h1>

      <section className="card">
        <h2>Listeners</h2>
        <table className="kv-table">
          <thead>
            <tr><th>Listener</th><th>Address</th><th>Port</th><th>TLS profile</th><th>State</th></tr>
          </thead>
          <tbody>
            {status.listeners.map((l) => (
              <tr key={`${l.kind}-${l.port}`}>
                <td>{listenerLabel(l)}</td>
                <td className="mono">{l.host === '0.0.0.0' ? '0.0.0.0 (every IPv4 interface)' : l.host}</td>
                <td className="mono">{l.port}</td>
                <td>{l.tlsProfile}{l.tlsProfile === 'legacy' ? <span className="badge badge-warn">TLS 1.0/1.1 allowed</span> : null}</td>
                <td><span className={`dot dot-${l.state}`} aria-hidden /> {l.state}{l.error ? ` — ${l.error}` : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {loopbackOnly ? (
          <p className="note note-warn">This listener only accepts connections from this machine ({listener?.host}). Phones cannot reach it: start the service with <code>--host 0.0.0.0</code>.</p>
        ) : null}
      </section>

      <TlsSettings listeners={status.listeners} />
      <RelaySetting status={status} />

      <section className="card">
        <h2>This machine's addresses</h2>
        {status.addresses.length === 0 ? <p className="muted">No network address besides loopback: connect this machine to the phones' network.</p> : null}
        <div className="addr-list" role="radiogroup" aria-label="Address the phones should use">
          {status.addresses.map((a) => (
            <label key={`${a.interface}-${a.address}`} className={`addr ${host === a.address ? 'addr-picked' : ''}`}>
              <input type="radio" name="addr" checked={host === a.address && !custom} onChange={() => { setPicked(a.address); setCustom(''); }} />
              <span className="mono">{a.address}</span>
              <span className="muted"> {a.interface} · {a.family}{a.linkLocal ? ' · link-local' : ''}</span>
            </label>
          ))}
          <label className="addr">
            <span>Other (host name or address): </span>
            <input className="input mono" value={custom} placeholder="dls.example.local" maxLength={200} onChange={(e) => setCustom(e.target.value)} />
          </label>
        </div>
      </section>

      <section className="card">
        <h2>On the phone</h2>
        {host ? (
          <dl className="kv">
            <dt>WBM › Network › Update service (DLS)</dt>
            <dd>
              DLS address <code className="big">{host}</code> <CopyButton text={host} /> port <code className="big">{port}</code>
            </dd>
            <dt>As a URL</dt>
            <dd><code>{opt?.url}</code> <CopyButton text={opt?.url ?? ''} /></dd>
          </dl>
        ) : (
          <p className="muted">Pick an address above.</p>
        )}
      </section>

      {opt ? (
        <section className="card">
          <h2>DHCP option 43 (vendor-encapsulated options)</h2>
          <p className="muted">
            Phones that get their address by DHCP (vendor class <code>OptiIpPhone</code>) read the DLS address from option 43:
            sub-option 1 is the vendor name, sub-option 3 the <code>sdlp://</code> address.
          </p>
          <table className="kv-table option43">
            <thead>
              <tr><th>Sub-option</th><th>Meaning</th><th>Value</th><th>Bytes (tag, length, value)</th></tr>
            </thead>
            <tbody>
              {opt.subOptions.map((s) => (
                <tr key={s.tag}>
                  <td className="mono">{s.tag}</td>
                  <td>{s.label}</td>
                  <td className="mono">{s.value}</td>
                  <td className="mono hex">{colonHex(s.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <dl className="kv">
            <dt>ISC dhcpd / Kea (colon hex)</dt>
            <dd>
              <code className="hex-block" data-testid="option43-colon">{colonHex(opt.bytes)}</code> <CopyButton text={colonHex(opt.bytes)} />
            </dd>
            <dt>Plain hex (Windows DHCP, routers)</dt>
            <dd>
              <code className="hex-block" data-testid="option43-hex">{plainHex(opt.bytes)}</code> <CopyButton text={plainHex(opt.bytes)} />
            </dd>
            <dt>dhcpd.conf example</dt>
            <dd>
              <pre className="snippet">{`class "OptiIpPhone" {
  match if option vendor-class-identifier = "OptiIpPhone";
  option vendor-encapsulated-options ${colonHex(opt.bytes)};
}`}</pre>
            </dd>
          </dl>
        </section>
      ) : null}
    </div>
  );
}
