/**
 * Relay mode says so on every view: where phone requests go, how the upstream's certificate is
 * checked, and that Secure-Mode phones cannot be relayed.
 */
import { useTranslation } from 'react-i18next';
import type { RelayStatus } from '../../../shared/api';
import '../i18n';

export function RelayBanner({ relay }: { relay: RelayStatus | null | undefined }) {
  const { t } = useTranslation('relay');
  if (!relay) return null;
  const trust = relay.ca ? 'banner.trust_ca' : relay.fingerprints.length ? 'banner.trust_fingerprint' : 'banner.trust_none';
  const trusted = relay.ca || relay.fingerprints.length > 0;
  // One line by default (helper-81: three lines at 1024 px left six rows of the list); the rest on
  // a click. An upstream whose certificate nothing accepts yet stays said in that line.
  return (
    <div className="relay-banner" role="status" aria-label={t('banner.title')} data-testid="relay-banner">
      <details>
        <summary>
          <strong>{t('banner.title')}</strong>: <span>{t('banner.short', { upstream: relay.upstream })}</span>
          {trusted ? null : <> <span className="relay-warn">{t(trust)}</span></>}
        </summary>
        <span>{t('banner.text', { upstream: relay.upstream })}</span> {trusted ? <span className="muted">{t(trust)}</span> : null}{' '}
        <span className="muted">{t('banner.secure')}</span>
      </details>
    </div>
  );
}
