/**
 * File and firmware deployment as the phone sees it (manual p.52–58, items p.177 §4.5.2, stored
 * files p.245 §6.3): reading the file-* items of FileDeployment / SoftwareDeployment, the
 * simulated download (no network: it succeeds unless told to fail), and the file-deployment-*
 * records the phone keeps and reports. No I/O.
 */
import type { Item } from './codec';
import { itemKey, type PhoneConfig } from './items';

/** File types of manual §4.5.3 (p.53–55) plus DONGLE (field); APP is firmware (p.57). */
export const FILE_TYPES = ['RINGTONE', 'LOGO', 'MOH', 'PIC', 'LDAP', 'SCREENSAVER', 'DONGLE'] as const;

export interface FileRequest {
  /** The common index of the multiple form (p.55); undefined in the single form. */
  index?: number;
  action: 'deploy' | 'delete';
  name: string;
  type: string;
  /** Where the phone would fetch it from (ftp://… or https://…), for logs. */
  source: string;
}

export type FileDeploymentRequest = { multiple: boolean; files: FileRequest[] } | { error: string };

export interface SoftwareRequest {
  /** file-sw-version as sent, e.g. 1.4.9.0. */
  version: string;
  /** What the phone reports afterwards as software-version, e.g. V1 R4.9.0 (p.54/p.57). */
  label: string;
  priority: 'normal' | 'immediate';
  name: string;
  source: string;
}

/** One file the phone keeps, reported as indexed file-deployment-* items (p.245). */
export interface DeployedFile {
  index: number;
  status: 'ok' | 'failed';
  /** dd:mm:yyyy (p.54 example 10:06:2008). */
  date: string;
  /** hh:mm:ss. */
  time: string;
  name: string;
  type: string;
}

const DEPLOYED = ['status', 'date', 'time', 'name', 'type'] as const;

/**
 * FileDeployment items. The multiple form (p.55) carries `file-action` and/or several indexes;
 * items without an index then apply to every index (e.g. one common file-server) [INF]. Anything
 * else is the single form (p.53–54): FTP items or file-https-base-url, plus file-type.
 */
export function parseFileDeployment(items: readonly Item[]): FileDeploymentRequest {
  const fileItems = items.filter((i) => i.name.startsWith('file-'));
  const indexes = [...new Set(fileItems.filter((i) => i.index !== undefined).map((i) => i.index!))].sort((a, b) => a - b);
  const multiple = fileItems.some((i) => i.name === 'file-action') || indexes.length > 1;
  if (!multiple) {
    const file = fileRequest(fileItems, undefined);
    return 'error' in file ? file : { multiple, files: [file] };
  }
  const files: FileRequest[] = [];
  for (const index of indexes) {
    const own = fileItems.filter((i) => i.index === index);
    const shared = fileItems.filter((i) => i.index === undefined && !own.some((o) => o.name === i.name));
    const file = fileRequest([...shared, ...own], index);
    if ('error' in file) return { error: `index ${index}: ${file.error}` };
    files.push(file);
  }
  if (files.length === 0) return { error: 'file-action without an index (multiple file deployment needs indexed items, manual p.55)' };
  return { multiple, files };
}

function fileRequest(items: readonly Item[], index: number | undefined): FileRequest | { error: string } {
  const get = (name: string): string | undefined => items.find((i) => i.name === name)?.value.trim();
  const actionValue = (get('file-action') ?? 'deploy').toLowerCase();
  if (actionValue !== 'deploy' && actionValue !== 'delete') return { error: `file-action "${actionValue}" is neither deploy nor delete` };
  const type = get('file-type');
  if (!type) return { error: 'no file-type' };
  // A type it has no place for is as unusable as none (p.29: reply-to failed) [INF].
  if (!(FILE_TYPES as readonly string[]).includes(type)) return { error: `file-type "${type}" is none the phone stores (${FILE_TYPES.join(', ')})` };
  const where = source(get);
  if ('error' in where) {
    // Deletion only needs file-name + file-type, which are unique on the phone (p.55).
    const name = get('file-name');
    if (actionValue === 'delete' && name) return withIndex({ action: 'delete', name, type, source: '' }, index);
    return where;
  }
  return withIndex({ action: actionValue, name: where.name, type, source: where.source }, index);
}

function withIndex(file: FileRequest, index: number | undefined): FileRequest {
  return index === undefined ? file : { ...file, index };
}

/** FTP (file-server, file-port, file-path, file-name) or HTTPS (file-https-base-url), p.53–57. */
function source(get: (name: string) => string | undefined): { name: string; source: string } | { error: string } {
  const url = get('file-https-base-url');
  if (url) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { error: `file-https-base-url "${url}" is not a URL` };
    }
    if (parsed.protocol !== 'https:') return { error: `file-https-base-url must be https://, not ${parsed.protocol}//` };
    const name = get('file-name') || decodeURIComponent(parsed.pathname.split('/').pop() ?? '');
    if (!name) return { error: `file-https-base-url "${url}" names no file` };
    return { name, source: parsed.href };
  }
  const server = get('file-server');
  const name = get('file-name');
  if (!server || !name) return { error: 'neither file-https-base-url nor file-server + file-name' };
  const port = get('file-port') || '21';
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return { error: `file-port "${port}" is not a port` };
  const path = (get('file-path') ?? '').replace(/\/+$/, '');
  return { name, source: `ftp://${server}:${port}${path.startsWith('/') || path === '' ? path : `/${path}`}/${name}` };
}

/** SoftwareDeployment items (p.56–57): like a file, plus file-sw-version and file-priority. */
export function parseSoftwareDeployment(items: readonly Item[]): SoftwareRequest | { error: string } {
  const get = (name: string): string | undefined => items.find((i) => i.name === name && i.index === undefined)?.value.trim() ?? items.find((i) => i.name === name)?.value.trim();
  const version = get('file-sw-version');
  if (!version) return { error: 'no file-sw-version' };
  const label = softwareVersionLabel(version);
  if (label === undefined) return { error: `file-sw-version "${version}" is not a version like 1.4.9.0` };
  // Default immediate (p.177).
  const priority = (get('file-priority') || 'immediate').toLowerCase();
  if (priority !== 'normal' && priority !== 'immediate') return { error: `file-priority "${priority}" is neither normal nor immediate` };
  const where = source(get);
  if ('error' in where) return where;
  return { version, label, priority, name: where.name, source: where.source };
}

/**
 * file-sw-version 1.4.9.0 is reported as software-version V1 R4.9.0 (p.54, p.57); field: 3.5.12.0
 * ↔ V3 R5.12.0. A value already in that form is kept.
 */
export function softwareVersionLabel(version: string): string | undefined {
  const dotted = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(version.trim());
  if (dotted) return `V${dotted[1]} R${dotted[2]}.${dotted[3]}.${dotted[4]}`;
  return /^V\d+ R\d+\.\d+\.\d+$/.test(version.trim()) ? version.trim() : undefined;
}

/** The simulated download fails for the configured names and for any name containing "missing". */
export function downloadFails(name: string, failFiles: ReadonlySet<string>): boolean {
  return failFiles.has(name) || /missing/i.test(name);
}

// ---------------------------------------------------------------------------------------------
// Files stored on the phone (p.245)

export function deployedFiles(config: PhoneConfig): DeployedFile[] {
  const out: DeployedFile[] = [];
  for (const item of config.items.values()) {
    if (item.name !== 'file-deployment-name' || item.index === undefined) continue;
    const value = (field: string): string => config.items.get(itemKey(`file-deployment-${field}`, item.index))?.value ?? '';
    out.push({ index: item.index, status: value('status') === 'failed' ? 'failed' : 'ok', date: value('date'), time: value('time'), name: item.value, type: value('type') });
  }
  return out.sort((a, b) => a.index - b.index);
}

/** Records a transfer; the same file-name + file-type keeps its index (it is unique, p.55). */
export function recordFile(config: PhoneConfig, file: { name: string; type: string; status: 'ok' | 'failed' }, at: Date): DeployedFile {
  const files = deployedFiles(config);
  const index = files.find((f) => f.name === file.name && f.type === file.type)?.index ?? Math.max(0, ...files.map((f) => f.index)) + 1;
  const record: DeployedFile = { index, status: file.status, ...stamp(at), name: file.name, type: file.type };
  for (const item of deploymentItems(record)) config.items.set(itemKey(item.name, item.index), item);
  return record;
}

export function deleteFile(config: PhoneConfig, name: string, type: string): boolean {
  const file = deployedFiles(config).find((f) => f.name === name && f.type === type);
  if (!file) return false;
  for (const field of DEPLOYED) config.items.delete(itemKey(`file-deployment-${field}`, file.index));
  return true;
}

/** The indexed items of a status message / ReadAllItems for one file (p.54, p.245). */
export function deploymentItems(file: DeployedFile): Item[] {
  return DEPLOYED.map((field) => ({ name: `file-deployment-${field}`, index: file.index, value: String(file[field]) }));
}

/** dd:mm:yyyy and hh:mm:ss in the phone's local time (p.54). */
export function stamp(at: Date): { date: string; time: string } {
  const two = (n: number): string => String(n).padStart(2, '0');
  return {
    date: `${two(at.getDate())}:${two(at.getMonth() + 1)}:${at.getFullYear()}`,
    time: `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`,
  };
}
