/**
 * The traffic page's split between the list and the detail: the list's share of the height, as
 * the user dragged it or set it with the keys, kept in localStorage as a fraction (so a resized
 * window keeps the proportion), as DevTools and HTTP Toolkit keep their pane sizes.
 */
export const SPLIT_KEY = 'localdls.traffic.listShare';
export const DEFAULT_SHARE = 0.42;
export const MIN_SHARE = 0.15;
export const MAX_SHARE = 0.85;
/** One arrow key press. */
export const SHARE_STEP = 0.05;

export const clampShare = (share: number): number => Math.min(MAX_SHARE, Math.max(MIN_SHARE, share));

/** The kept share, or the default when none is kept or what is kept is not a share. */
export function loadShare(): number {
  try {
    const kept = Number(globalThis.localStorage?.getItem(SPLIT_KEY) ?? NaN);
    return Number.isFinite(kept) && kept >= MIN_SHARE && kept <= MAX_SHARE ? kept : DEFAULT_SHARE;
  } catch {
    return DEFAULT_SHARE;
  }
}

/** Keeps the share; the default is kept as nothing, so a later default applies. */
export function saveShare(share: number): void {
  try {
    if (share === DEFAULT_SHARE) globalThis.localStorage?.removeItem(SPLIT_KEY);
    else globalThis.localStorage?.setItem(SPLIT_KEY, String(Math.round(share * 1000) / 1000));
  } catch {
    // Storage refused (private mode, full): the split holds for this page only.
  }
}

/** The share a key on the splitter asks for, or null for a key it does not take. */
export function shareForKey(key: string, share: number): number | null {
  switch (key) {
    case 'ArrowUp':
      return clampShare(share - SHARE_STEP);
    case 'ArrowDown':
      return clampShare(share + SHARE_STEP);
    case 'Home':
      return MIN_SHARE;
    case 'End':
      return MAX_SHARE;
    case 'Enter':
      return DEFAULT_SHARE;
    default:
      return null;
  }
}
