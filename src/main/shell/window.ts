/** The one window: hardened web preferences, no navigation, no new windows, the app icon. */
import { existsSync } from 'node:fs';
import { BrowserWindow } from 'electron';

export interface MainWindowOptions {
  preload: string;
  /** PNG for the title bar and task bar on Linux and Windows (macOS takes the bundle's icon). */
  icon: string;
  url: string;
  /** Runs before the page loads (event forwarding must be in place for its first events). */
  beforeLoad?: (win: BrowserWindow) => void;
}

export async function createMainWindow(options: MainWindowOptions): Promise<BrowserWindow> {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    show: false,
    title: 'LocalDLS',
    ...(process.platform !== 'darwin' && existsSync(options.icon) ? { icon: options.icon } : {}),
    webPreferences: {
      preload: options.preload,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  win.on('ready-to-show', () => win.show());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  options.beforeLoad?.(win);
  await win.loadURL(options.url);
  return win;
}

/** A second launch brings the first instance's window to the front instead of starting again. */
export function bringToFront(win: BrowserWindow | null): void {
  if (!win || win.isDestroyed()) return;
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}
