/**
 * Feedback for actions: short messages in the corner. Successes fade after a while; errors stay
 * until closed, with the service's own words.
 */
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';

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

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const LINGER_MS: Record<ToastKind, number | null> = { ok: 6000, info: 8000, warn: 15000, error: null };
const MAX_LINES = 12;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const close = useCallback((id: number) => setToasts((t) => t.filter((x) => x.id !== id)), []);
  const push = useCallback(
    (kind: ToastKind, title: string, lines?: string[]) => {
      const id = next.current++;
      setToasts((t) => [...t.slice(-4), { id, kind, title, ...(lines?.length ? { lines } : {}) }]);
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
              <button type="button" className="btn-x" aria-label="Close message" onClick={() => close(t.id)}>×</button>
            </div>
            {t.lines ? (
              <ul className="toast-lines">
                {t.lines.slice(0, MAX_LINES).map((l, i) => <li key={i}>{l}</li>)}
                {t.lines.length > MAX_LINES ? <li className="muted">…and {t.lines.length - MAX_LINES} more</li> : null}
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
