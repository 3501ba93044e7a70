import type { LocalDlsApi } from '../../shared/api';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in a plain browser (web UI). */
    localdls?: LocalDlsApi;
  }
}

export {};
