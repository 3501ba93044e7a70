/**
 * Stores whose search index a test fills by hand (`search.catchUp()`, `indexSome`), written
 * without fsync, each closed after its test. `open` lets a test close one early (to reopen the
 * folder after changing it as an older version would have left it).
 */
import { afterEach } from 'vitest';
import { Store } from '../../src/main/store';

export function manualStores() {
  const open: Store[] = [];
  afterEach(() => open.splice(0).forEach((s) => s.close()));
  const store = (dir: string): Store => {
    const s = new Store(dir, { searchIndexing: 'manual', synchronous: 'OFF' });
    open.push(s);
    return s;
  };
  return { store, open };
}
