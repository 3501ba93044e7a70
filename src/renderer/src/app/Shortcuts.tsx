/**
 * Keyboard shortcuts: `?` shows the list; 1–6 switch views and `/` goes to the traffic search,
 * when the focus is not in a text field. The list names only shortcuts that exist.
 */
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { Dialog } from '../common/Dialog';
import { go, href } from '../lib/route';

/** In the order of the tabs (helper-61: 4–6 went to Secure Mode, Setup, Rollouts while the tabs read Rollouts, Secure Mode, Setup). */
export const VIEW_KEYS = { '1': 'traffic', '2': 'devices', '3': 'jobs', '4': 'rollouts', '5': 'bootstrap', '6': 'setup' } as const;

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.isContentEditable || (el.tagName === 'INPUT' && !['checkbox', 'radio', 'button'].includes((el as HTMLInputElement).type)) || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT';
}

/** The app-wide keys; `onHelp` opens the list. */
export function useShortcuts(onHelp: () => void): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.altKey || e.ctrlKey || e.metaKey || typing(e.target)) return;
      if (document.querySelector('[role="dialog"]')) return;
      if (e.key === '?') {
        e.preventDefault();
        onHelp();
      } else if (e.key in VIEW_KEYS) {
        go(href(VIEW_KEYS[e.key as keyof typeof VIEW_KEYS]));
      } else if (e.key === '/') {
        e.preventDefault();
        if (!window.location.hash.startsWith('#/traffic') && window.location.hash !== '') go(href('traffic'));
        setTimeout(() => document.querySelector<HTMLInputElement>('.f-text')?.focus(), 0);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onHelp]);
}

const GROUPS: { title: string; keys: [string, string][] }[] = [
  { title: 'anywhere', keys: [['?', 'help'], ['1 – 6', 'views'], ['/', 'search'], ['Esc', 'closeDialog']] },
  { title: 'traffic', keys: [['↑ ↓ / j k', 'move'], ['PgUp PgDn', 'page'], ['Home End', 'ends'], ['Esc', 'clearSelection'], ['shiftClick', 'range'], ['ctrlClick', 'toggle']] },
];

const KEY_NAMES = new Set(['shiftClick', 'ctrlClick']);

export function ShortcutHelp({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation('common');
  return (
    <Dialog title={t('shortcuts.title')} onClose={onClose} className="shortcuts-dialog">
      {GROUPS.map((g) => (
        <section key={g.title}>
          <h4>{t(`shortcuts.group.${g.title}`)}</h4>
          <dl className="kv shortcuts" data-testid={`shortcuts-${g.title}`}>
            {g.keys.map(([keys, what]) => (
              <div key={what} className="shortcut">
                {/* Modifier names differ by language (Umschalt, Strg); the keys themselves do not. */}
                <dt><kbd>{KEY_NAMES.has(keys) ? t(`shortcuts.keyName.${keys}`) : keys}</kbd></dt>
                <dd>{t(`shortcuts.key.${what}`)}</dd>
              </div>
            ))}
          </dl>
        </section>
      ))}
    </Dialog>
  );
}
