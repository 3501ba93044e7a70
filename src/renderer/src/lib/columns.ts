/**
 * Columns that give way where a list has too little room, shared by the traffic list and the
 * devices list: each column has a fixed width and one flexible column keeps its least room; where
 * they do not fit, the least needed columns are left out in a set order (never cut, and the list
 * never scrolls sideways, which would hide its end), as DevTools' network panel leaves its less
 * used columns out until asked for. The Columns chooser (common/ColumnChooser.tsx) brings one
 * back: asked for where it had no room, it is pinned and the others give way to it. The user's
 * choice is kept in localStorage.
 */
import { useLayoutEffect, useState, type RefObject } from 'react';

export interface ColumnSpec<K extends string> {
  /** Every column in order with its width in px; the flexible column's width is 0 (it takes the rest). */
  columns: readonly { key: K; width: number }[];
  /** The flexible column's least room (px). */
  flexMin: number;
  /** Never hidden nor left out: without them a row says nothing. */
  always: ReadonlySet<K>;
  /** Where the columns do not fit, these are left out, first to last. */
  giveWay: readonly K[];
  /** localStorage keys: the columns the user hid, and those asked for where the room was short. */
  hiddenKey: string;
  pinnedKey: string;
}

export interface ColumnLayout<K extends string> {
  /** The columns shown, in order. */
  shown: K[];
  /** Left out for the width (not hidden by the user). */
  dropped: K[];
  /** The flexible column has its least room (else the columns asked for take it). */
  fits: boolean;
}

/**
 * The columns for `room` px (null: not laid out, as in tests without layout: all of them), the
 * user's hidden and pinned ones respected.
 */
export function fitColumns<K extends string>(spec: ColumnSpec<K>, room: number | null, hidden: ReadonlySet<K>, pinned: ReadonlySet<K>): ColumnLayout<K> {
  const shown = spec.columns.filter((c) => !hidden.has(c.key));
  const dropped: K[] = [];
  let need = shown.reduce((sum, c) => sum + c.width, spec.flexMin);
  for (const key of spec.giveWay) {
    if (room === null || need <= room) break;
    const c = shown.find((s) => s.key === key);
    if (!c || pinned.has(key)) continue;
    shown.splice(shown.indexOf(c), 1);
    dropped.push(key);
    need -= c.width;
  }
  return { shown: shown.map((c) => c.key), dropped, fits: room === null || need <= room };
}

function loadColumns<K extends string>(spec: ColumnSpec<K>, key: string): Set<K> {
  try {
    const saved = JSON.parse(globalThis.localStorage?.getItem(key) ?? '[]') as unknown;
    return new Set((Array.isArray(saved) ? saved : []).filter((k): k is K => spec.columns.some((c) => c.key === k) && !spec.always.has(k as K)));
  } catch {
    return new Set();
  }
}

function saveColumns(key: string, columns: ReadonlySet<string>): void {
  try {
    globalThis.localStorage?.setItem(key, JSON.stringify([...columns]));
  } catch {
    // storage unavailable (privacy mode): the choice lasts for this window
  }
}

/**
 * The user's choice after the Columns chooser shows (or hides) `key` at `room` px. Shown where the
 * width had left it out, it is pinned and the others give way to it; where the columns pinned before
 * leave no room for it with the flexible column's least room, those pinned earliest give way again,
 * so the table never grows past its box and the newest choice wins (helper-79: with every column
 * asked back at 1024 px the devices table overflowed and its model column had no room left).
 */
export function chooseColumn<K extends string>(spec: ColumnSpec<K>, room: number | null, hidden: ReadonlySet<K>, pinned: ReadonlySet<K>, key: K, show: boolean): { hidden: Set<K>; pinned: Set<K> } {
  const nextHidden = new Set(hidden);
  const nextPinned = new Set(pinned);
  if (!show) {
    nextHidden.add(key);
    nextPinned.delete(key);
    return { hidden: nextHidden, pinned: nextPinned };
  }
  nextHidden.delete(key);
  if (!fitColumns(spec, room, nextHidden, nextPinned).dropped.includes(key)) return { hidden: nextHidden, pinned: nextPinned };
  nextPinned.add(key);
  // Set order is the order they were asked for: the earliest give way first.
  for (const earlier of [...nextPinned]) {
    if (fitColumns(spec, room, nextHidden, nextPinned).fits) break;
    if (earlier !== key) nextPinned.delete(earlier);
  }
  return { hidden: nextHidden, pinned: nextPinned };
}

/** The columns the user hid and pinned (kept), the layout for `room`, and the Columns chooser's change. */
export function useColumnChoice<K extends string>(spec: ColumnSpec<K>, room: number | null): { layout: ColumnLayout<K>; choose: (key: K, show: boolean) => void } {
  const [hidden, setHidden] = useState<Set<K>>(() => loadColumns(spec, spec.hiddenKey));
  const [pinned, setPinned] = useState<Set<K>>(() => loadColumns(spec, spec.pinnedKey));
  const choose = (key: K, show: boolean) => {
    const { hidden: nextHidden, pinned: nextPinned } = chooseColumn(spec, room, hidden, pinned, key, show);
    setHidden(nextHidden);
    saveColumns(spec.hiddenKey, nextHidden);
    setPinned(nextPinned);
    saveColumns(spec.pinnedKey, nextPinned);
  };
  return { layout: fitColumns(spec, room, hidden, pinned), choose };
}

/**
 * The room for the columns, the element's width inside its scrollbar (and borders), and the
 * scrollbar's width (the traffic list's header keeps as much room at its end, so its columns stand
 * over the rows': a fixed guess left them 10 px apart where scrollbars overlay or are wider); null
 * while nothing is laid out.
 */
export function useColumnRoom(element: RefObject<HTMLElement | null>): { room: number; scrollbar: number } | null {
  const [room, setRoom] = useState<{ room: number; scrollbar: number } | null>(null);
  useLayoutEffect(() => {
    const el = element.current;
    if (!el) return undefined;
    const measure = () => {
      const width = el.clientWidth;
      const scrollbar = el.offsetWidth - width;
      setRoom((was) => (width <= 0 ? null : was?.room === width && was.scrollbar === scrollbar ? was : { room: width, scrollbar }));
    };
    // Before the first paint: the list is not drawn with columns it then drops.
    measure();
    if (typeof ResizeObserver === 'undefined') return undefined;
    // Its content box: it changes with the window and when the scrollbar comes or goes.
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [element]);
  return room;
}
