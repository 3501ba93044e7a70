/**
 * Items written on the command line: `name=value`, `name[index]=value`, or for reads `name` /
 * `name[index]`. Index 0 is a real index.
 */
import type { ItemValue } from '../../shared/model';
import { clipped } from '../../shared/quote';

const SPEC = /^([A-Za-z][A-Za-z0-9_.-]*)(?:\[(\d{1,6})\])?(?:=([\s\S]*))?$/;

export function parseItemSpec(spec: string, needValue: boolean): ItemValue {
  const m = SPEC.exec(spec);
  // Quoted up to its value, and short: the value may be a password, the name thousands of characters.
  const eq = spec.indexOf('=');
  const quoted = `"${clipped(eq < 0 ? spec : spec.slice(0, eq))}${eq < 0 ? '' : '=…'}"`;
  if (!m) throw new Error(`${quoted} is not an item: write name=value or name[index]=value`);
  const [, name, index, value] = m;
  if (needValue && value === undefined) throw new Error(`${quoted} has no value: write ${name}${index !== undefined ? `[${index}]` : ''}=value`);
  if (!needValue && value !== undefined) throw new Error(`${quoted}: a read names items without values`);
  const item: ItemValue = { name: name!, value: value ?? '' };
  if (index !== undefined) item.index = Number(index);
  return item;
}

export function formatItem(i: { name: string; index?: number | null; value: string }): string {
  return `${i.name}${i.index !== undefined && i.index !== null ? `[${i.index}]` : ''}=${i.value}`;
}

/**
 * A file location as the phone's file-* items (manual p.53–57): an https:// URL becomes
 * file-https-base-url, an ftp://user:password@host:port/path/name URL the FTP items.
 */
export function fileLocationItems(location: string): ItemValue[] {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new Error(`"${location}" is not a URL: use https://host/path/file or ftp://user:password@host/path/file`);
  }
  if (url.protocol === 'https:') return [{ name: 'file-https-base-url', value: url.href }];
  if (url.protocol !== 'ftp:') throw new Error(`files come from https:// or ftp:// servers, not ${url.protocol}//`);
  const path = decodeURIComponent(url.pathname);
  const slash = path.lastIndexOf('/');
  const name = path.slice(slash + 1);
  if (!name) throw new Error(`"${location}" names no file`);
  return [
    { name: 'file-server', value: url.hostname },
    { name: 'file-port', value: url.port || '21' },
    { name: 'file-username', value: decodeURIComponent(url.username) },
    { name: 'file-pwd', value: decodeURIComponent(url.password) },
    { name: 'file-path', value: path.slice(0, slash + 1) || '/' },
    { name: 'file-name', value: name },
  ];
}
