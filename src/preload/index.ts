/**
 * Preload: will expose the one typed API object from src/shared (issue "Desktop app"). Nothing of
 * ipcRenderer is exposed to the page.
 */
import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('localdls', Object.freeze({ version: '0.1.0' }));
