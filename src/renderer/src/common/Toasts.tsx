/**
 * Feedback for actions: short messages in the corner. Successes go after a while; failures and
 * partial failures (warn: "sent to 2 of 3") stay until closed, with the service's own words.
 */
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { errorText } from '../lib/api-error';

export type ToastKind = 'ok' | 'info' | 'warn' | 'error';

export interface Toast {
  id: number;
  kind: ToastKind;
  title: string;
  /** More lines (e.g. one per device). */
  lines?: string[];
}

interface ToastApi {
  push(kind: ToastKind, title: string, lines?: string[]): void;
  /** An error as the service worded it. */
  error(title: string, e: unknown): void;
}

const ToastContext = createContext<ToastApi | null>(null);

export { errorText };

export const LINGER_MS: Record<ToastKind, number | null> = { ok: 6000, info: 8000, warn: null, error: null };
const MAX_LINES = 12;

export function ToastProvider({ children }: { children: ReactNode }) {
  const { t: tr } = useTranslation('common');
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const close = useCallback((id: number) => setToasts((t) => t.filter((x) => x.id !== id)), []);
  const push = useCallback(
    (kind: ToastKind, title: string, lines?: string[]) => {
      const id = next.current++;
      // At most five at once; the oldest success makes room first, so no failure is pushed out unread.
      setToasts((t) => {
        const all = [...t, { id, kind, title, ...(lines?.length ? { lines } : {}) }];
        while (all.length > 5) {
          const drop = all.findIndex((x) => LINGER_MS[x.kind] !== null);
          all.splice(drop >= 0 ? drop : 0, 1);
        }
        return all;
      });
      const linger = LINGER_MS[kind];
      if (linger !== null) setTimeout(() => close(id), linger);
    },
    [close],
  );
  const api = useMemo<ToastApi>(() => ({ push, error: (title, e) => push('error', title, [errorText(e)]) }), [push]);
  return (
    <ToastContext.Provider value={api}>
      {children}
      <div className="toasts" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'} data-testid="toast">
            <div className="toast-head">
              <strong>{t.title}</strong>
              <button type="button" className="btn-x" aria-label={tr('toast.close')} onClick={() => close(t.id)}>×</button>
            </div>
            {t.lines ? (
              <ul className="toast-lines">
                {t.lines.slice(0, MAX_LINES).map((l, i) => <li key={i}>{l}</li>)}
                {t.lines.length > MAX_LINES ? <li className="muted">{tr('toast.more', { count: t.lines.length - MAX_LINES })}</li> : null}
              </ul>
            ) : null}
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast(): ToastApi {
  const t = useContext(ToastContext);
  if (!t) throw new Error('useToast outside <ToastProvider>');
  return t;
}
