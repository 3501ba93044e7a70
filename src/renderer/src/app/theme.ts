/**
 * Light or dark: the system's choice (prefers-color-scheme) unless the user picked one, which is
 * remembered. styles.css keys its colours on <html data-theme>.
 */
import { useEffect, useState } from 'react';

export const THEMES = ['system', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];
const STORAGE_KEY = 'localdls.theme';

export function savedTheme(storage: Pick<Storage, 'getItem'> | undefined): Theme {
  try {
    const v = storage?.getItem(STORAGE_KEY);
    return (THEMES as readonly string[]).includes(v ?? '') ? (v as Theme) : 'system';
  } catch {
    return 'system';
  }
}

/** Sets the theme on the document; `system` leaves it to prefers-color-scheme. */
export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): void {
  if (theme === 'system') delete root.dataset.theme;
  else root.dataset.theme = theme;
}

export function useTheme(): [Theme, (t: Theme) => void] {
  const [theme, setTheme] = useState<Theme>(() => savedTheme(globalThis.localStorage));
  useEffect(() => {
    applyTheme(theme);
    try {
      if (theme === 'system') globalThis.localStorage?.removeItem(STORAGE_KEY);
      else globalThis.localStorage?.setItem(STORAGE_KEY, theme);
    } catch {
      // storage refused: the choice lasts for this window
    }
  }, [theme]);
  return [theme, setTheme];
}
