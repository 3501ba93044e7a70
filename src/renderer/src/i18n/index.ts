/**
 * UI text in English and German (i18next). Each view folder has its own namespace: one JSON file
 * per language in ./locales/<lang>/<namespace>.json, loaded here at build time, so adding a view's
 * strings touches no shared file. English is the fallback for a missing German key.
 *
 *   const { t } = useTranslation('traffic');   t('filter.placeholder')
 */
import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';

export const LANGUAGES = ['en', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];
const STORAGE_KEY = 'localdls.language';

type Resources = Record<string, Record<string, Record<string, unknown>>>;

function loadResources(): Resources {
  const files = import.meta.glob<{ default: Record<string, unknown> }>('./locales/*/*.json', { eager: true });
  const resources: Resources = {};
  for (const [path, module] of Object.entries(files)) {
    const match = /\.\/locales\/([a-z]+)\/([\w-]+)\.json$/.exec(path);
    if (!match) continue;
    const [, lang, namespace] = match as unknown as [string, string, string];
    (resources[lang] ??= {})[namespace] = module.default;
  }
  return resources;
}

/** The user's choice if made, else the browser's language when we have it, else English. */
export function initialLanguage(storage: Pick<Storage, 'getItem'> | undefined, navigatorLanguages: readonly string[]): Language {
  const saved = storage?.getItem(STORAGE_KEY);
  if (saved && (LANGUAGES as readonly string[]).includes(saved)) return saved as Language;
  for (const tag of navigatorLanguages) {
    const base = tag.toLowerCase().split('-')[0];
    if ((LANGUAGES as readonly string[]).includes(base ?? '')) return base as Language;
  }
  return 'en';
}

export function setLanguage(lang: Language): void {
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, lang);
  } catch {
    // storage can be unavailable (privacy mode); the choice then lasts for this window only
  }
  void i18next.changeLanguage(lang);
}

const resources = loadResources();
void i18next.use(initReactI18next).init({
  resources,
  lng: initialLanguage(globalThis.localStorage, globalThis.navigator?.languages ?? []),
  fallbackLng: 'en',
  ns: Object.keys(resources.en ?? {}),
  defaultNS: 'common',
  interpolation: { escapeValue: false }, // React escapes
  returnNull: false,
});

export { i18next };
