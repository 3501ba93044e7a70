/**
 * From "what to do" (a JobSpec) to the job the store keeps: the items of each job kind (write, read, read-all,
 * restart, factory reset, file and firmware deployment), checked the same way for `localdls job
 * add` and the UI's `addJob`. Only the words naming the inputs differ (CLI flags or API fields).
 */
import type { JobSpec } from '../../shared/schemas';
import { FILE_TYPES, ITEM_NAME_PATTERN, MAX_ITEM_INDEX } from '../../shared/schemas';
import { CATALOGUE } from '../../shared/catalogue';
import type { ItemValue, JobKind } from '../../shared/model';
import { fileLocationItems } from './item-spec';
import { phoneVersionOf } from '../provisioning';
import type { ApiText } from '../../shared/api';
import { itemNameCaseProblem, writeItemProblem } from '../../shared/item-rules';
import { clipped } from '../../shared/quote';

export { writeItemProblem };

/** A job spec that cannot become a job; the message says why in the caller's words. */
export class JobSpecError extends Error {
  override readonly name = 'JobSpecError';
  constructor(
    message: string,
    /** The same as translatable texts, where the UI can meet it (the item rules). */
    readonly texts?: readonly ApiText[],
  ) {
    super(message);
  }
}

export interface BuiltJob {
  kind: JobKind;
  items: ItemValue[];
  expect?: Record<string, string>;
  /** Not wrong, but worth saying (items the catalogue does not know). */
  notes: string[];
}

/** How the inputs are called where the spec came from. */
export interface SpecWords {
  fileType: string;
  sources: string;
  version: string;
}

export const CLI_WORDS: SpecWords = { fileType: '--type', sources: '--url or --ftp', version: '--version' };
export const API_WORDS: SpecWords = { fileType: 'a file type', sources: 'a URL (https:// or ftp://)', version: 'a version' };

const KNOWN_ITEMS = new Set(CATALOGUE.map((c) => c.name));
const READ_ONLY_ITEMS = new Set(CATALOGUE.filter((c) => c.readonly === 'yes').map((c) => c.name));

export const FILE_TYPE_LIST = FILE_TYPES.join(', ');

/** The note for items the catalogue does not list, or null. */
export function unknownItemsNote(items: readonly { name: string }[]): string | null {
  const unknown = [...new Set(items.filter((i) => !KNOWN_ITEMS.has(i.name)).map((i) => i.name))];
  // Names quoted short, at most ten: a note, not a copy of what was typed (a 5,000-character name).
  const named = unknown.slice(0, 10).map((n) => clipped(n));
  const more = unknown.length > 10 ? ` and ${unknown.length - 10} more` : '';
  return unknown.length ? `not in LocalDLS's item catalogue (the phone may answer "unknown item"): ${named.join(', ')}${more}` : null;
}

function checkItems(items: readonly { name: string; index?: number }[], needValue: boolean): void {
  if (items.length === 0) throw new JobSpecError(needValue ? 'no items: write name=value …' : 'no items: name the items to read');
  for (const i of items) {
    if (!ITEM_NAME_PATTERN.test(i.name)) throw new JobSpecError(`"${clipped(i.name)}" is not an item name`);
    // A read too: the phone would answer "unknown item" for a name it knows in another case only.
    const wrongCase = needValue ? null : itemNameCaseProblem(i);
    if (wrongCase) throw new JobSpecError(wrongCase.message, [{ key: wrongCase.key, params: wrongCase.params }]);
    if (i.index !== undefined && !(Number.isInteger(i.index) && i.index >= 0 && i.index <= MAX_ITEM_INDEX)) throw new JobSpecError(`${i.name}: index ${i.index} is not from 0 to ${MAX_ITEM_INDEX}`);
  }
}

function located(source: string): ItemValue[] {
  try {
    return fileLocationItems(source);
  } catch (e) {
    throw new JobSpecError((e as Error).message);
  }
}

/**
 * The note for items the phone only reports (the catalogue's read-only ones), in a write: it
 * answers "read only" for each (manual p.82–83), and the job fails. The UI's item editor says the
 * same as it is typed; queued anyway, as the catalogue may not know every firmware.
 */
export function readOnlyItemsNote(items: readonly { name: string }[]): string | null {
  const named = [...new Set(items.filter((i) => READ_ONLY_ITEMS.has(i.name)).map((i) => i.name))];
  return named.length ? `read-only on the phone (it will answer "read only", and the job fails): ${named.join(', ')}` : null;
}

function withNotes(job: Omit<BuiltJob, 'notes'>, noteItems: readonly { name: string }[] = []): BuiltJob {
  const notes = [unknownItemsNote(noteItems), job.kind === 'WriteItems' ? readOnlyItemsNote(noteItems) : null].filter((n) => n !== null);
  return { ...job, notes };
}

/** The job for one spec; throws JobSpecError with a message naming the inputs in `words`. */
export function buildJob(spec: JobSpec, words: SpecWords = API_WORDS): BuiltJob {
  switch (spec.kind) {
    case 'write': {
      checkItems(spec.items, true);
      const problems = spec.items.map((i) => writeItemProblem(i)).filter((p) => p !== null);
      if (problems.length) throw new JobSpecError(problems.map((p) => p.message).join('; '), problems.map(({ key, params }) => ({ key, params })));
      const items = spec.items.map((i) => (i.index === undefined ? { name: i.name, value: i.value } : { name: i.name, index: i.index, value: i.value }));
      return withNotes({ kind: 'WriteItems', items }, items);
    }
    case 'read': {
      checkItems(spec.items, false);
      const items = spec.items.map((i) => (i.index === undefined ? { name: i.name, value: '' } : { name: i.name, index: i.index, value: '' }));
      return withNotes({ kind: 'ReadItems', items }, items);
    }
    case 'read-all':
      return withNotes({ kind: 'ReadAllItems', items: [] });
    case 'restart':
      return withNotes({ kind: 'Restart', items: [] });
    case 'factory-reset':
      return withNotes({ kind: 'FactoryReset', items: [] });
    case 'file': {
      const sources = (spec.urls ?? []).filter((u) => u !== '');
      const deletes = spec.deletes ?? [];
      // Each file's own type (fileTypes, same order as urls), else the one fileType for all.
      if (spec.fileTypes && spec.fileTypes.length !== sources.length) {
        throw new JobSpecError(`file has ${sources.length} file${sources.length === 1 ? '' : 's'} but ${spec.fileTypes.length} file type${spec.fileTypes.length === 1 ? '' : 's'}: give ${words.fileType} before each file`);
      }
      const typeOf = (i: number) => spec.fileTypes?.[i] ?? spec.fileType;
      if (sources.length + deletes.length === 0) throw new JobSpecError(`file needs ${words.sources} (or a file to delete)`);
      if (sources.some((_, i) => !typeOf(i))) throw new JobSpecError(`file needs ${words.fileType} (${FILE_TYPE_LIST})`);
      // The manual's types, in the case it writes them; another is refused, as the UI offers only these.
      const manualType = (t: string) => t.trim().toUpperCase();
      const unknown = [...sources.map((_, i) => typeOf(i)!), ...deletes.map((d) => d.type)].find((t) => !FILE_TYPES.some((k) => k === manualType(t)));
      if (unknown !== undefined) throw new JobSpecError(`file type "${clipped(unknown)}" is not one of ${FILE_TYPE_LIST}`);
      const typeAt = (i: number) => manualType(typeOf(i)!);
      const locations = sources.map(located);
      if (locations.length === 1 && deletes.length === 0) return withNotes({ kind: 'FileDeployment', items: [...locations[0]!, { name: 'file-type', value: typeAt(0) }] });
      // Several files: one index per file, each with file-action (manual p.55).
      const all: ItemValue[] = [];
      locations.forEach((loc, i) => all.push(...[...loc, { name: 'file-type', value: typeAt(i) }, { name: 'file-action', value: 'deploy' }].map((it) => ({ ...it, index: i + 1 }))));
      deletes.forEach((d, i) => {
        const index = locations.length + i + 1;
        all.push({ name: 'file-name', index, value: d.name }, { name: 'file-type', index, value: manualType(d.type) }, { name: 'file-action', index, value: 'delete' });
      });
      return withNotes({ kind: 'FileDeployment', items: all });
    }
    case 'firmware': {
      if (!spec.version) throw new JobSpecError(`firmware needs ${words.version}, e.g. 3.5.12.0`);
      const phoneVersion = phoneVersionOf(spec.version);
      if (!phoneVersion) throw new JobSpecError(`${words.version === '--version' ? '--version' : 'version'} "${spec.version}" is not a firmware version like 3.5.12.0`);
      if (!spec.url) throw new JobSpecError(`firmware needs ${words.sources}`);
      const priority = spec.priority ?? 'normal';
      // The manual's example sends file-type APP as well as file-sw-type (p.57).
      return withNotes({
        kind: 'SoftwareDeployment',
        items: [...located(spec.url), { name: 'file-type', value: 'APP' }, { name: 'file-sw-type', value: spec.swType ?? 'Siemens SIP' }, { name: 'file-sw-version', value: spec.version }, { name: 'file-priority', value: priority }],
        expect: { 'software-version': phoneVersion },
      });
    }
  }
}
