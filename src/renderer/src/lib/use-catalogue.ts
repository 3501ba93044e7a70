/** The WPI item catalogue from the service, fetched once per API and shared by every editor. */
import { useEffect, useState } from 'react';
import type { CatalogueEntry, LocalDlsApi } from '../../../shared/api';
import { errorText } from './api-error';

export interface Catalogue {
  entries: CatalogueEntry[];
  byName: Map<string, CatalogueEntry>;
}

const cache = new WeakMap<LocalDlsApi, Promise<Catalogue>>();

function load(api: LocalDlsApi): Promise<Catalogue> {
  let p = cache.get(api);
  if (!p) {
    p = api.itemCatalogue().then((entries) => ({ entries, byName: new Map(entries.map((e) => [e.name, e])) }));
    // A failed load is tried again next time.
    p.catch(() => cache.delete(api));
    cache.set(api, p);
  }
  return p;
}

export function useCatalogue(api: LocalDlsApi): { catalogue: Catalogue | null; error: string | null } {
  const [catalogue, setCatalogue] = useState<Catalogue | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    load(api).then(
      (c) => live && setCatalogue(c),
      (e: unknown) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [api]);
  return { catalogue, error };
}

/** Catalogue names for what was typed: prefix matches first, then names containing it. */
export function suggest(entries: readonly CatalogueEntry[], typed: string, max = 8): CatalogueEntry[] {
  const q = typed.trim().toLowerCase();
  if (!q) return [];
  const starts: CatalogueEntry[] = [];
  const contains: CatalogueEntry[] = [];
  for (const e of entries) {
    const n = e.name.toLowerCase();
    if (n === q) continue;
    if (n.startsWith(q)) starts.push(e);
    else if (n.includes(q)) contains.push(e);
  }
  return [...starts, ...contains].slice(0, max);
}
