/** A relayed exchange's upstream side: the DLS's status, timing and TLS, apart from the phone's. */
import { useTranslation } from 'react-i18next';
import type { UpstreamView } from '../../../shared/api';
import { HeaderLines } from '../common/HeaderLines';
import { duration } from '../lib/format';
import '../i18n';
import { relayFailure } from '../lib/relay-failure';

export function UpstreamPanel({ upstream: u }: { upstream: UpstreamView }) {
  const { t } = useTranslation('relay');
  return (
    <div data-testid="upstream-panel">
      <dl className="kv upstream">
        <dt>{t('upstream.url')}</dt>
        <dd className="mono">{u.url}</dd>
        <dt>{t('upstream.status')}</dt>
        <dd>{u.httpStatus ?? t('upstream.noAnswer')}</dd>
        {u.failure ? (
          <>
            <dt>{t('upstream.failure')}</dt>
            {/* The kind and the service's words in the UI's language; addresses, system errors and a certificate's verdict as recorded. */}
            <dd className="relay-warn">{t(`upstream.failure_${u.failure}`)}: {u.error === null ? '' : relayFailure(u.error, t)}</dd>
          </>
        ) : null}
        <dt>{t('upstream.timing')}</dt>
        <dd>
          {/* No connect time: a kept-alive connection was reused, a handshake showed a certificate that was
              not accepted (nothing sent), or none was made (unreachable, refused before TLS). */}
          {t('upstream.connect')}:{' '}
          {u.connected !== null ? duration(u.connected - u.started) : u.reused ? t('upstream.reused') : u.tlsProtocol !== null ? t('upstream.handshakeOnly') : t('upstream.notConnected')}
          {u.firstByte !== null ? ` · ${t('upstream.firstByte')} ${duration(u.firstByte - u.started)}` : ''}
          {` · ${t('upstream.total')} ${duration(u.ended - u.started)}`}
        </dd>
        <dt>{t('upstream.protocol')}</dt>
        <dd>{u.tlsProtocol ?? '—'}</dd>
        <dt>{t('upstream.cipher')}</dt>
        <dd className="mono">{u.tlsCipher ?? '—'}</dd>
        <dt>{t('upstream.certificate')}</dt>
        <dd className="mono">{u.subject ?? '—'}</dd>
        <dt>{t('upstream.fingerprint')}</dt>
        <dd className="mono selectable">{u.fingerprint ?? '—'}</dd>
        <dt>{t('upstream.trustedBy')}</dt>
        <dd>{u.trustedBy ? t(`upstream.trusted_${u.trustedBy}`) : u.fingerprint !== null ? t('upstream.trusted_none') : '—'}</dd>
        <dd className="muted wide">{t('upstream.phoneSide')}</dd>
      </dl>
      {/* What went to the DLS and what came back, as on the wire: the Headers tab has the phone's side. */}
      <HeaderLines className="upstream-headers" title={t('upstream.sentHeaders')} pairs={u.requestHeaders} empty={!u.headersRecorded ? t('upstream.notRecorded') : u.failure !== null ? t('upstream.nothingSent') : '—'} />
      <HeaderLines className="upstream-headers" title={t('upstream.receivedHeaders')} pairs={u.responseHeaders} empty={!u.headersRecorded ? t('upstream.notRecorded') : t('upstream.noAnswer')} />
    </div>
  );
}
