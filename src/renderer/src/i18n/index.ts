/**
 * UI text in English and German (i18next). Each view folder has its own namespace: one JSON file
 * per language in ./locales/<lang>/<namespace>.json, so adding a view's strings touches no shared
 * file. English is the fallback for a missing German key or namespace.
 *
 * The files are loaded, not bundled: at start only the namespaces the traffic view and the app
 * frame need, in the language in use (and English under German, the fallback; those English ones
 * come in the start-up bundle); the others once the first rows are painted (loadAllNamespaces). A
 * view whose namespace is not there yet waits for it in its <Suspense> boundary. `i18nReady`
 * settles when the start-up namespaces are in.
 *
 *   const { t } = useTranslation('traffic');   t('filter.placeholder')
 */
import i18next, { type BackendModule } from 'i18next';
import { initReactI18next } from 'react-i18next';
import { START_NAMESPACES } from './start-namespaces';

export const LANGUAGES = ['en', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];
const STORAGE_KEY = 'localdls.language';

type Strings = Record<string, unknown>;

/**
 * The first screen's English text is in the start-up bundle: fetched as seven more files beside
 * it, the six connections a browser opens to one host made the page's scripts wait their turn
 * (test/renderer/i18n.test.ts checks this list against START_NAMESPACES).
 */
const BUNDLED = import.meta.glob<Strings>(['./locales/en/{common,traffic,detail,status,relay,errors,ladder}.json'], { eager: true, import: 'default' });
/** Every other file: a chunk of its own (the build's code-splitting), fetched when first asked for. */
const FILES = import.meta.glob<{ default: Strings }>(['./locales/*/*.json', '!./locales/en/{common,traffic,detail,status,relay,errors,ladder}.json']);

function fileOf(lang: string, namespace: string): string {
  return `./locales/${lang}/${namespace}.json`;
}

/** Every namespace there is (the English files). */
export const NAMESPACES: readonly string[] = [...Object.keys(BUNDLED), ...Object.keys(FILES)].flatMap((path) => {
  const match = /^\.\/locales\/en\/([\w-]+)\.json$/.exec(path);
  return match ? [match[1] as string] : [];
});

/**
 * Reads a namespace's file. A file that does not exist (a namespace not translated yet) loads as
 * empty, so its keys fall back to English; one that fails to load is said in the console and
 * loads as empty too, rather than holding the first render through i18next's retries.
 */
export const localeFiles: BackendModule = {
  type: 'backend',
  init: () => undefined,
  read(lang, namespace, done) {
    const bundled = BUNDLED[fileOf(lang, namespace)];
    if (bundled) {
      done(null, bundled);
      return;
    }
    const load = FILES[fileOf(lang, namespace)];
    if (!load) {
      done(null, {});
      return;
    }
    load().then(
      (module) => done(null, module.default),
      (e: unknown) => {
        console.error(`UI text ${fileOf(lang, namespace)} could not be loaded (${e instanceof Error ? e.message : String(e)}); English is shown where it is missing`);
        done(null, {});
      },
    );
  },
};

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

export const i18nReady: Promise<unknown> = i18next
  .use(localeFiles)
  .use(initReactI18next)
  .init({
    lng: initialLanguage(globalThis.localStorage, globalThis.navigator?.languages ?? []),
    fallbackLng: 'en',
    supportedLngs: [...LANGUAGES],
    ns: START_NAMESPACES.filter((ns) => NAMESPACES.includes(ns)),
    defaultNS: 'common',
    interpolation: { escapeValue: false }, // React escapes
    returnNull: false,
  });

/** The namespaces not loaded at start, in the language in use (and the fallback's). */
export function loadAllNamespaces(): Promise<void> {
  return i18next.loadNamespaces([...NAMESPACES]);
}

export { i18next, START_NAMESPACES };
