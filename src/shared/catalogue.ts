/** The WPI item catalogue (item-catalogue.json, made from the manual by scripts/catalogue.mjs). */
import catalogue from './item-catalogue.json';

export interface CatalogueEntry {
  name: string;
  indexed: boolean;
  type: string;
  /** Allowed values or range, in the manual's words. */
  values: string;
  default: string;
  group: string;
  readonly: 'yes' | 'no' | 'unknown';
  description: string;
  /** A password, community, key or TAN: masked wherever it is shown (shared/secrets.ts). */
  secret: boolean;
}

export const CATALOGUE: readonly CatalogueEntry[] = catalogue as CatalogueEntry[];
