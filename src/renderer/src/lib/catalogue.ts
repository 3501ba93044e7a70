/** Item descriptions from the catalogue, for tooltips in item tables. */
import catalogue from '../../../shared/item-catalogue.json';

interface Entry {
  name: string;
  description: string;
  group: string;
}

const BY_NAME = new Map((catalogue as Entry[]).map((e) => [e.name, e]));

export function describeItem(name: string): string | undefined {
  const e = BY_NAME.get(name);
  return e ? `${e.description} (${e.group})` : undefined;
}
