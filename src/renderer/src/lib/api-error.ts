/**
 * An error from the service in the UI's language: its texts (stable keys with values, see
 * ApiText in src/shared/api.ts) through the `errors` namespace; the service's English message for
 * anything without texts or with a key this UI does not know (a newer service).
 */
import { i18next } from '../i18n';

interface WithTexts {
  texts?: readonly { key: string; params: Record<string, string | number> }[];
}

export function errorText(e: unknown): string {
  const texts = e instanceof Error ? (e as Error & WithTexts).texts : undefined;
  if (texts?.length && texts.every((x) => i18next.exists(`errors:${x.key}`))) {
    return texts.map((x) => i18next.t(`errors:${x.key}`, { ...x.params, interpolation: { escapeValue: false } })).join('; ');
  }
  return e instanceof Error ? e.message : String(e);
}
