/** What an export wrote, exactly: a HAR file holds failed TLS handshakes in log._tlsErrors, not as entries. */
import type { TFunction } from 'i18next';
import type { ExportFormat, ExportResult } from '../../../shared/api';

export function exportNotice(t: TFunction<'traffic'>, file: ExportResult, format: ExportFormat): string {
  if (format === 'har' && file.tlsFailures > 0) {
    return t('view.exportedHar', { count: file.tlsFailures, entries: t('view.exchangeCount', { count: file.count - file.tlsFailures }), filename: file.filename });
  }
  return t('view.exported', { count: file.count, filename: file.filename });
}
