/**
 * happy-dom does no layout, so every element measures 0×0 and the virtual list would render no
 * rows. Give elements a usual pane size; the e2e tests check the real layout in Chromium.
 */
Object.defineProperty(HTMLElement.prototype, 'clientHeight', { configurable: true, get: () => 600 });
Object.defineProperty(HTMLElement.prototype, 'clientWidth', { configurable: true, get: () => 1200 });

// The views' text comes from i18next; tests read the English strings whatever the host's locale.
import { i18next } from '../../src/renderer/src/i18n';
void i18next.changeLanguage('en');
