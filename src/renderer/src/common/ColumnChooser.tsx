/**
 * The "Columns" popover of a list whose columns give way (lib/columns.ts): checked, shown; a column
 * left out for the width is unchecked, and checking it brings it back.
 */
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';

export interface ColumnChooserProps<K extends string> {
  /** The columns the user may hide, in order, with their names. */
  columns: readonly { key: K; label: string }[];
  shown: readonly K[];
  /** What the checkboxes are, for a screen reader ("Columns shown in the exchange list"). */
  legend: string;
  onChange: (key: K, show: boolean) => void;
}

export function ColumnChooser<K extends string>({ columns, shown, legend, onChange }: ColumnChooserProps<K>) {
  const { t } = useTranslation('common');
  // The checkboxes exist only while open: their labels ("Device", …) must not shadow a filter's.
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDetailsElement>(null);
  // Closed as a popover is: by Escape (the focus back on its button) or a click elsewhere; it had
  // stayed open over the traffic list's Status column (helper-77).
  useEffect(() => {
    if (!open) return undefined;
    const away = (e: PointerEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) ref.current.open = false;
    };
    document.addEventListener('pointerdown', away);
    return () => document.removeEventListener('pointerdown', away);
  }, [open]);
  const onKeyDown = (e: KeyboardEvent<HTMLDetailsElement>) => {
    if (e.key !== 'Escape' || !ref.current?.open) return;
    e.stopPropagation();
    ref.current.open = false;
    ref.current.querySelector('summary')?.focus();
  };
  return (
    <details ref={ref} className="column-chooser" onToggle={(e) => setOpen(e.currentTarget.open)} onKeyDown={onKeyDown}>
      <summary>{t('columns')}</summary>
      {open ? (
        <fieldset>
          <legend className="sr-only">{legend}</legend>
          {columns.map((c) => (
            <label key={c.key}>
              <input type="checkbox" checked={shown.includes(c.key)} onChange={(e) => onChange(c.key, e.target.checked)} /> {c.label}
            </label>
          ))}
        </fieldset>
      ) : null}
    </details>
  );
}
