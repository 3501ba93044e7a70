/**
 * TLS compatibility per WPI listener (Default Mode, Secure Mode): Modern, or Legacy for old
 * OpenStage firmware. The service stores the choice and applies it without closing the port;
 * switching to Legacy asks first, with the risk in plain words.
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ListenerStatus, TlsListener, TlsProfileName } from '../../../shared/api';
import { useApi } from '../api/ApiContext';
import { Dialog } from '../common/Dialog';
import { useToast } from '../common/Toasts';
import { listenerLabel } from './StatusBar';
import { CodeText } from '../common/CodeText';

export function TlsSettings({ listeners }: { listeners: ListenerStatus[] }) {
  const { t } = useTranslation('status');
  const tls = listeners.filter((l): l is ListenerStatus & { kind: TlsListener } => l.kind === 'default' || l.kind === 'secure');
  if (tls.length === 0) return null;
  return (
    <section className="card" aria-label={t('tls.title')}>
      <h2>{t('tls.title')}</h2>
      <p className="muted">{t('tls.risk')}</p>
      <p className="muted" data-testid="tls-stored"><CodeText text={t('tls.stored')} /></p>
      {tls.map((l) => (
        <TlsSetting key={l.kind} listener={l} />
      ))}
    </section>
  );
}

export function TlsSetting({ listener }: { listener: ListenerStatus & { kind: TlsListener } }) {
  const { t } = useTranslation('status');
  const api = useApi();
  const toast = useToast();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const label = listenerLabel(listener, t);
  const current = listener.tlsProfile;

  const apply = async (profile: TlsProfileName) => {
    setBusy(true);
    try {
      await api.setTlsProfile(listener.kind, profile);
      toast.push('ok', profile === 'legacy' ? t('tls.nowLegacy', { label }) : t('tls.nowModern', { label }), [t('tls.applied')]);
    } catch (e) {
      toast.error(t('tls.notChanged', { label }), e);
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
      <legend>{t('tls.legend', { label, port: listener.port })}</legend>
      <label className="radio">
        <input type="radio" name={name} value="modern" checked={current === 'modern'} onChange={() => choose('modern')} />
        <span><strong>{t('tls.modern')}</strong> — {t('tls.modernHelp')}</span>
      </label>
      <label className="radio">
        <input type="radio" name={name} value="legacy" checked={current === 'legacy'} onChange={() => choose('legacy')} />
        <span><strong>{t('tls.legacy')}</strong> — {t('tls.legacyHelp')}</span>
      </label>
      {current === 'legacy' ? <p className="note note-warn">{t('tls.legacyOn')}</p> : null}
      {confirming ? (
        <Dialog
          title={t('tls.confirmTitle', { label })}
          onClose={() => setConfirming(false)}
          footer={
            <>
              <span className="grow" />
              <button type="button" className="btn" onClick={() => setConfirming(false)}>{t('tls.cancel')}</button>
              <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void apply('legacy')}>{t('tls.allow')}</button>
            </>
          }
        >
          <p>{t('tls.risk')}</p>
          <p>{t('tls.confirmNote')}</p>
        </Dialog>
      ) : null}
    </fieldset>
  );
}
