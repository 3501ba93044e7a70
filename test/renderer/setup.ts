/**
 * happy-dom does no layout, so every element measures 0×0 and the virtual list would render no
 * rows. Give elements a usual pane size; the e2e tests check the real layout in Chromium.
 */
Object.defineProperty(HTMLElement.prototype, 'clientHeight', { configurable: true, get: () => 600 });
Object.defineProperty(HTMLElement.prototype, 'clientWidth', { configurable: true, get: () => 1200 });

// findBy…/waitFor give up after 1 s by default. A view loaded lazily (import() of its module,
// transformed on first use) can take longer on two loaded cores (a CI run once missed it by a
// hair): wait up to 10 s, still failing when the element never comes.
import { configure } from '@testing-library/react';
configure({ asyncUtilTimeout: 10_000 });

// The views' text comes from i18next; tests read the English strings whatever the host's locale.
// The page loads namespaces as needed (src/renderer/src/i18n): tests start with all of them, in
// both languages, so switching language in a test is immediate.
import { i18next, i18nReady, LANGUAGES, loadAllNamespaces } from '../../src/renderer/src/i18n';
await i18nReady;
await loadAllNamespaces();
await i18next.loadLanguages([...LANGUAGES]);
await i18next.changeLanguage('en');
