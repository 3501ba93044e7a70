/** Item descriptions from the catalogue, for tooltips in item tables. */
import { CATALOGUE } from '../../../shared/catalogue';

const BY_NAME = new Map(CATALOGUE.map((e) => [e.name, e]));

export function describeItem(name: string): string | undefined {
  const e = BY_NAME.get(name);
  return e ? `${e.description} (${e.group})` : undefined;
}
