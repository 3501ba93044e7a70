/**
 * Item descriptions from the catalogue, for tooltips and the item editor. The catalogue was made
 * from research notes (which source said what: "ext comment", "GS3 writes 0", "seen in a simulated
 * phone"); that provenance is for the project, not for a person configuring a phone, so it is
 * taken out of what the UI shows.
 */
import { CATALOGUE } from '../../../shared/catalogue';

const BY_NAME = new Map(CATALOGUE.map((e) => [e.name, e]));

const SOURCE = String.raw`(?:ext comment|ext code|GS\d\w*|simulat\w*|sources found|manual example|dlsir|seen|written by|research)`;
const SOURCE_WORD = new RegExp(String.raw`\b${SOURCE}\b`, 'i');

/** The catalogue's text without the research notes about where it came from. */
export function forDisplay(text: string): string {
  let t = text
    .replace(/\b(?:old )?ext comment:\s*/gi, '')
    .replace(/\bGS\d comment:\s*/gi, '')
    .replace(/\bformat seen:/gi, 'e.g.')
    .replace(/\s*(?:as sent by|sent by|in) an? simulated [\w -]+?(?=$|[;(])/gi, '')
    .replace(new RegExp(String.raw`\s*\([^()]*\b${SOURCE}\b[^()]*\)`, 'gi'), '')
    .replace(new RegExp(String.raw`\s*\[[^\]]*\b${SOURCE}\b[^\]]*\]`, 'gi'), '');
  t = t
    .split(/;\s*/)
    .filter((part) => !SOURCE_WORD.test(part))
    .join('; ');
  return t.replace(/\s{2,}/g, ' ').trim();
}

export function describeItem(name: string): string | undefined {
  const e = BY_NAME.get(name);
  return e ? `${forDisplay(e.description)} (${e.group})` : undefined;
}
