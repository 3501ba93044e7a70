/**
 * The app's choice of relay mode (docs/relay.md): the upstream DLS, its CA file, accepted
 * fingerprints. Stored and checked by the service; applies at its next start.
 */
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { ServiceStatus } from '../../../shared/api';
import { useApi } from '../api/ApiContext';
import { useToast } from '../common/Toasts';
import '../i18n';
import { CodeText, plainCode } from '../common/CodeText';

export function RelaySetting({ status }: { status: ServiceStatus }) {
  const { t } = useTranslation('relay');
  const api = useApi();
  const toast = useToast();
  const stored = status.upstreamSetting ?? null;
  const [url, setUrl] = useState(stored?.url ?? '');
  const [caFile, setCaFile] = useState(stored?.caFile ?? '');
  const [fingerprints, setFingerprints] = useState((stored?.fingerprints ?? []).join('\n'));
  const [busy, setBusy] = useState(false);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      const list = fingerprints.split(/\s*\n\s*/).map((f) => f.trim()).filter(Boolean);
      await api.setUpstream({ url, ...(caFile.trim() ? { caFile: caFile.trim() } : {}), fingerprints: list });
      toast.push('ok', t('setting.saved'), [plainCode(t('setting.restart'))]);
    } catch (err) {
      toast.error(t('setting.notSaved'), err);
    } finally {
      setBusy(false);
    }
  };
  const off = async () => {
    setBusy(true);
    try {
      await api.setUpstream(null);
      setUrl('');
      setCaFile('');
      setFingerprints('');
      toast.push('ok', t('setting.savedOff'), [plainCode(t('setting.restart'))]);
    } catch (err) {
      toast.error(t('setting.notSaved'), err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card relay-setting" aria-label={t('setting.title')}>
      <h2>{t('setting.title')}</h2>
      <p className="muted">{t('setting.intro')}</p>
      {status.relay ? <p className="note note-warn">{t('setting.running', { upstream: status.relay.upstream })}</p> : null}
      {/* Relaying with nothing stored: it came from `serve --upstream`, for this run only (helper-61: "Not set: LocalDLS answers phones itself" read under "relaying"). */}
      <p className="muted"><CodeText text={stored ? t('setting.stored', { url: stored.url }) : status.relay ? t('setting.storedNoneThisRun') : t('setting.storedNone')} /></p>
      <form className="form" onSubmit={(e) => void save(e)}>
        <fieldset disabled={busy}>
          <label className="field field-block">
            <span>{t('setting.url')}</span>
            <input type="text" className="input mono" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://dls.example.net:18443" required />
          </label>
          <label className="field field-block">
            <span>{t('setting.caFile')}</span>
            <input type="text" className="input mono" value={caFile} onChange={(e) => setCaFile(e.target.value)} placeholder="/etc/ssl/site-dls-ca.pem" />
          </label>
          <label className="field field-block">
            <span>{t('setting.fingerprints')}</span>
            <textarea className="input mono" rows={4} value={fingerprints} onChange={(e) => setFingerprints(e.target.value)} placeholder="AB:CD:…" />
          </label>
          <p className="muted"><CodeText text={t('setting.restart')} /> <CodeText text={t('setting.secure')} /></p>
          <div className="row">
            <button type="submit" className="btn btn-primary">{t('setting.save')}</button>
            {stored ? <button type="button" className="btn" onClick={() => void off()}>{t('setting.off')}</button> : null}
          </div>
        </fieldset>
      </form>
    </section>
  );
}
