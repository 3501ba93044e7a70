/**
 * TLS compatibility per WPI listener (Default Mode, Secure Mode): Modern, or Legacy for old
 * OpenStage firmware. The service stores the choice and applies it without closing the port;
 * switching to Legacy asks first, with the risk in plain words.
 */
import { useState } from 'react';
import type { ListenerStatus, TlsListener, TlsProfileName } from '../../../shared/api';
import { useApi } from '../api/ApiContext';
import { Dialog } from '../common/Dialog';
import { useToast } from '../common/Toasts';
import { listenerLabel } from './StatusBar';

const RISK =
  'Legacy allows older protocols and ciphers: someone on the LAN who records the traffic has a better chance of decrypting it, ' +
  'including the passwords and settings sent to phones. Use it only while phones need it: failed TLS handshakes in the traffic view ' +
  '(“unsupported protocol”, “no shared cipher”) say when they do. Switch back to Modern once their firmware is updated.';

export function TlsSettings({ listeners }: { listeners: ListenerStatus[] }) {
  const tls = listeners.filter((l): l is ListenerStatus & { kind: TlsListener } => l.kind === 'default' || l.kind === 'secure');
  if (tls.length === 0) return null;
  return (
    <section className="card" aria-label="TLS compatibility">
      <h2>TLS compatibility</h2>
      <p className="muted">{RISK}</p>
      {tls.map((l) => (
        <TlsSetting key={l.kind} listener={l} />
      ))}
    </section>
  );
}

export function TlsSetting({ listener }: { listener: ListenerStatus & { kind: TlsListener } }) {
  const api = useApi();
  const toast = useToast();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const label = listenerLabel(listener);
  const current = listener.tlsProfile;

  const apply = async (profile: TlsProfileName) => {
    setBusy(true);
    try {
      await api.setTlsProfile(listener.kind, profile);
      toast.push(profile === 'legacy' ? 'warn' : 'ok', `${label}: ${profile === 'legacy' ? 'legacy TLS allowed' : 'modern TLS only'}`, ['New connections use it; the port stayed open.']);
    } catch (e) {
      toast.error(`${label}: the TLS setting was not changed`, e);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  const choose = (profile: TlsProfileName) => {
    if (profile === current) return;
    if (profile === 'legacy') setConfirming(true);
    else void apply(profile);
  };
  const name = `tls-${listener.kind}`;

  return (
    <fieldset className="tls-setting" disabled={busy} data-testid={`tls-setting-${listener.kind}`}>
      <legend>{label} listener (port <span className="mono">{listener.port}</span>)</legend>
      <label className="radio">
        <input type="radio" name={name} value="modern" checked={current === 'modern'} onChange={() => choose('modern')} />
        <span><strong>Modern</strong> — TLS 1.2 and newer (default)</span>
      </label>
      <label className="radio">
        <input type="radio" name={name} value="legacy" checked={current === 'legacy'} onChange={() => choose('legacy')} />
        <span><strong>Legacy</strong> — adds TLS 1.0/1.1 with RSA key exchange and CBC ciphers, for old OpenStage firmware</span>
      </label>
      {current === 'legacy' ? <p className="note note-warn">Legacy TLS is on for this listener. Switch back to Modern when no phone needs it.</p> : null}
      {confirming ? (
        <Dialog
          title={`Allow legacy TLS on the ${label} listener?`}
          onClose={() => setConfirming(false)}
          footer={
            <>
              <span className="grow" />
              <button type="button" className="btn" onClick={() => setConfirming(false)}>Cancel</button>
              <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void apply('legacy')}>Allow legacy TLS</button>
            </>
          }
        >
          <p>{RISK}</p>
          <p>Modern clients keep using TLS 1.2 or newer; the change applies to new connections at once, without a restart.</p>
        </Dialog>
      ) : null}
    </fieldset>
  );
}
