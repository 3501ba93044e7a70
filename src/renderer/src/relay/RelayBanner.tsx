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
  return (
    <div className="relay-banner" role="status" aria-label={t('banner.title')} data-testid="relay-banner">
      <strong>{t('banner.title')}</strong>{' '}
      <span>{t('banner.text', { upstream: relay.upstream })}</span>{' '}
      <span className={relay.ca || relay.fingerprints.length ? 'muted' : 'relay-warn'}>{t(trust)}</span>{' '}
      <span className="muted">{t('banner.secure')}</span>
    </div>
  );
}
