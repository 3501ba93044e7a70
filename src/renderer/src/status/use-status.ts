import { useCallback, useEffect, useMemo, useState } from 'react';
import type { LocalDlsApi, ServiceStatus } from '../../../shared/api';
import { errorText } from '../lib/api-error';

/** The service status, loaded once and then kept current by `onStatus` events. */
export function useStatus(api: LocalDlsApi): { value: ServiceStatus | null; error: string | null; refresh: () => void } {
  const [value, setValue] = useState<ServiceStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const refresh = useCallback(() => {
    api.getStatus().then(
      (s) => {
        setValue(s);
        setError(null);
      },
      (e: unknown) => setError(errorText(e)),
    );
  }, [api]);
  useEffect(() => {
    refresh();
    return api.onStatus((s) => setValue(s));
  }, [api, refresh]);
  return useMemo(() => ({ value, error, refresh }), [value, error, refresh]);
}
