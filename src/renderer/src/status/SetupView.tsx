/**
 * Setup help: what to enter on a phone (WBM / local menu) as its DLS address, and the DHCP option
 * 43 bytes that hand the same address to phones automatically (wpi-protocol.md §2.8).
 */
import { useMemo, useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
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
  const { t } = useTranslation('status');
  const listener = status?.listeners.find((l) => l.kind === 'default') ?? status?.listeners[0];
  const choices = useMemo(() => (status && listener ? reachableAddresses(listener, status.addresses).filter((a) => !a.linkLocal) : []), [status, listener]);
  const [picked, setPicked] = useState<string | null>(null);
  const [custom, setCustom] = useState('');
  if (!status) return <div className="page"><p className="muted">{t('setup.loading')}</p></div>;
  // Default: an address the listener is bound to; else any of this machine's (a loopback-only listener shows a warning).
  const host = custom.trim() || picked || choices[0]?.address || status.addresses.find((a) => !a.linkLocal)?.address || '';
  const port = listener?.port ?? 18443;
  const opt = host ? option43(host, port) : null;
  const loopbackOnly = listener && (listener.host.startsWith('127.') || listener.host === '::1');

  return (
    <div className="page setup">
      <h1>{t('setup.title')}</h1>

      <section className="card">
        <h2>{t('setup.listeners')}</h2>
        <table className="kv-table">
          <thead>
            <tr><th>{t('setup.col.listener')}</th><th>{t('setup.col.address')}</th><th>{t('setup.col.port')}</th><th>{t('setup.col.tls')}</th><th>{t('setup.col.state')}</th></tr>
          </thead>
          <tbody>
            {status.listeners.map((l) => (
              <tr key={`${l.kind}-${l.port}`}>
                <td>{listenerLabel(l, t)}</td>
                <td className="mono">{l.host === '0.0.0.0' ? t('setup.everyInterface') : l.host}</td>
                <td className="mono">{l.port}</td>
                <td>{t(`tls.${l.tlsProfile}`, { defaultValue: l.tlsProfile })}{l.tlsProfile === 'legacy' ? <span className="badge badge-warn">{t('setup.legacyAllowed')}</span> : null}</td>
                <td><span className={`dot dot-${l.state}`} aria-hidden /> {t(`listenerState.${l.state}`)}{l.error ? ` — ${l.error}` : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {loopbackOnly ? (
          <p className="note note-warn"><Trans t={t} i18nKey="setup.loopbackOnly" values={{ host: listener?.host }} components={{ code: <code /> }} /></p>
        ) : null}
      </section>

      <TlsSettings listeners={status.listeners} />
      <RelaySetting status={status} />

      <section className="card">
        <h2>{t('setup.addresses')}</h2>
        {status.addresses.length === 0 ? <p className="muted">{t('setup.noAddress')}</p> : null}
        <div className="addr-list" role="radiogroup" aria-label={t('setup.addressLabel')}>
          {status.addresses.map((a) => (
            <label key={`${a.interface}-${a.address}`} className={`addr ${host === a.address ? 'addr-picked' : ''}`}>
              <input type="radio" name="addr" checked={host === a.address && !custom} onChange={() => { setPicked(a.address); setCustom(''); }} />
              <span className="mono">{a.address}</span>
              <span className="muted"> {a.interface} · {a.family}{a.linkLocal ? ` · ${t('setup.linkLocal')}` : ''}</span>
            </label>
          ))}
          <label className="addr">
            <span>{t('setup.other')} </span>
            <input className="input mono" aria-label={t('setup.otherLabel')} value={custom} placeholder="dls.example.local" maxLength={200} onChange={(e) => setCustom(e.target.value)} />
          </label>
        </div>
      </section>

      <section className="card">
        <h2>{t('setup.onPhone')}</h2>
        {/* Said here too: this card is what a user copies to the phone, the warning above may be out of view. */}
        {host && loopbackOnly ? <p className="note note-warn" data-testid="phone-loopback">{t('setup.onPhoneLoopback', { host: listener?.host, address: host })}</p> : null}
        {host ? (
          <dl className="kv">
            <dt>{t('setup.wbmPath')}</dt>
            <dd>
              {t('setup.dlsAddress')} <code className="big">{host}</code> <CopyButton text={host} /> {t('setup.port')} <code className="big">{port}</code>
            </dd>
            <dt>{t('setup.asUrl')}</dt>
            <dd><code>{opt?.url}</code> <CopyButton text={opt?.url ?? ''} /></dd>
          </dl>
        ) : (
          <p className="muted">{t('setup.pickAddress')}</p>
        )}
      </section>

      {opt ? (
        <section className="card">
          <h2>{t('setup.option43')}</h2>
          <p className="muted">
            <Trans t={t} i18nKey="setup.option43Help" components={{ code: <code /> }} />
          </p>
          <table className="kv-table option43">
            <thead>
              <tr><th>{t('setup.col.subOption')}</th><th>{t('setup.col.meaning')}</th><th>{t('setup.col.value')}</th><th>{t('setup.col.bytes')}</th></tr>
            </thead>
            <tbody>
              {opt.subOptions.map((s) => (
                <tr key={s.tag}>
                  <td className="mono">{s.tag}</td>
                  <td>{t(`setup.subOption.${s.tag}`, { defaultValue: s.label })}</td>
                  <td className="mono">{s.value}</td>
                  <td className="mono hex">{colonHex(s.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <dl className="kv">
            <dt>{t('setup.colonHex')}</dt>
            <dd>
              <code className="hex-block" data-testid="option43-colon">{colonHex(opt.bytes)}</code> <CopyButton text={colonHex(opt.bytes)} />
            </dd>
            <dt>{t('setup.plainHex')}</dt>
            <dd>
              <code className="hex-block" data-testid="option43-hex">{plainHex(opt.bytes)}</code> <CopyButton text={plainHex(opt.bytes)} />
            </dd>
            <dt>{t('setup.dhcpdExample')}</dt>
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
