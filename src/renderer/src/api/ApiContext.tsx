import { createContext, useContext } from 'react';
import type { LocalDlsApi } from '../../../shared/api';

export const ApiContext = createContext<LocalDlsApi | null>(null);

/** The LocalDlsApi the app was started with (preload, WebSocket, or a test fake). */
export function useApi(): LocalDlsApi {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside <ApiContext.Provider>');
  return api;
}
