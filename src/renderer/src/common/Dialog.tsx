/** A modal dialog: title, body, and the page behind it inert to clicks; Escape closes it. */
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

export interface DialogProps {
  title: ReactNode;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
  wide?: boolean;
  className?: string;
}

export function Dialog({ title, onClose, children, footer, wide = false, className = '' }: DialogProps) {
  const { t } = useTranslation('common');
  const titleId = useId();
  const box = useRef<HTMLDivElement>(null);
  // The parent may pass a new onClose on every render (live updates behind the dialog): keep the
  // latest without re-running the effect, which would move the focus back to the first field.
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') close.current();
    };
    window.addEventListener('keydown', onKey);
    // Focus the first field (or the dialog) once, so the keyboard starts inside it.
    const first = box.current?.querySelector<HTMLElement>('input:not([type=hidden]):not(:disabled), select, textarea');
    (first ?? box.current)?.focus();
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return (
    <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div ref={box} className={`dialog ${wide ? 'dialog-wide' : ''} ${className}`} role="dialog" aria-modal="true" aria-labelledby={titleId} tabIndex={-1}>
        <div className="dialog-head">
          <h3 id={titleId}>{title}</h3>
          <button type="button" className="btn-x" aria-label={t('dialog.close')} onClick={onClose}>×</button>
        </div>
        <div className="dialog-body">{children}</div>
        {footer ? <div className="dialog-foot">{footer}</div> : null}
      </div>
    </div>
  );
}
