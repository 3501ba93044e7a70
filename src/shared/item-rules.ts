/**
 * What the item catalogue says a written item must have: an index when the item is indexed
 * (without one the phone cannot tell which key or line is meant, and every selected phone would
 * get the same broken write), a value when its type has no empty value. Items the catalogue does
 * not know pass. The service applies it to every write job (commands/job-spec.ts); the UI's
 * Write-items dialog applies the same function before sending, to say so next to the row.
 */
import { CATALOGUE } from './catalogue';
import type { ApiText } from './api';
import { hasMaskedValues, isSecretItem, MASK } from './secrets';

const BY_NAME = new Map(CATALOGUE.map((c) => [c.name, c]));
/** The same entries by their name in lower case: most are lower case, some not (`enable-WBM`, `Canonical-lookup-local-code`). */
const BY_LOWER_NAME = new Map(CATALOGUE.map((c) => [c.name.toLowerCase(), c]));

/**
 * Catalogue types whose empty value is no value (a flag, a number, a choice, key material): the
 * phone can only answer "failed". Strings, hosts and URIs may be written empty to clear them.
 */
const NEEDS_VALUE = new Set(['bool', 'int', 'enum', 'mac', 'datetime', 'ip', 'base64', 'pem', 'pem/base64', 'base64 (PKCS#12)']);

/** One problem: the English message (CLI, logs) and the same as a translatable text. */
export interface ItemProblem extends ApiText {
  message: string;
}

/**
 * Items only a bootstrap sends, with the phone's own certificate and the CA (app/bootstrap.ts):
 * key material LocalDLS never stores in clear, and the switch into Secure Mode. A write, a
 * profile or an override naming one would keep the value in the jobs table as typed, or send a
 * phone into Secure Mode with no certificate of ours (helper-62).
 */
const BOOTSTRAP_ONLY = new Set(['goto-secure-mode', 'dls-client-certificate', 'secure-mode-data', 'bootstrapping-tan']);

/** Why an item may not be written outside a bootstrap, or null. Names compared as the phone does (trimmed, any case). */
export function bootstrapOnlyProblem(item: { name: string }): ItemProblem | null {
  if (!BOOTSTRAP_ONLY.has(item.name.trim().toLowerCase())) return null;
  return {
    key: 'itemBootstrapOnly',
    params: { item: item.name },
    message: `${item.name} is sent only by a bootstrap (localdls bootstrap, or the Secure Mode view), with the phone's own certificate: not in a write, a profile or an override`,
  };
}

/**
 * Why a job may not send one of these items (key material, goto-secure-mode, the exact mask), or
 * null: the guard for what an older version stored before the command layer refused it (a job,
 * a profile's or an override's items, a retry of one).
 */
export function unsendableItem(items: readonly { name: string; value: string }[]): string | null {
  for (const i of items) {
    const problem = bootstrapOnlyProblem(i) ?? (i.value === MASK ? { message: `${i.name} has the mask (${MASK}) as its value` } : null);
    if (problem) return problem.message;
  }
  return null;
}

/**
 * A name the catalogue knows in another case only (`FUNCTION-KEY-DEF`, `enable-wbm` for
 * `enable-WBM`), or null. The manual writes most names in lower case, some not (`enable-WBM`,
 * `XML-app-name`, `Canonical-lookup-local-code`), and its phones' item names match as written
 * [INF]: such a write would pass every catalogue rule (index, value) unchecked and the phone
 * answer "unknown item". A name the catalogue does not know in any case passes (it may not know
 * every firmware).
 */
export function itemNameCaseProblem(item: { name: string }): ItemProblem | null {
  if (BY_NAME.has(item.name)) return null;
  const known = BY_LOWER_NAME.get(item.name.toLowerCase());
  if (!known) return null;
  return { key: 'itemNameCase', params: { item: item.name, known: known.name }, message: `${item.name} is not an item name the phone knows: item names are case-sensitive (${known.name})` };
}

/**
 * What is wrong with an item to write, or null. `masked: 'kept'` is for a profile being edited: its
 * secrets come back as the mask, which keeps the stored value (commands/profiles.ts setProfile).
 */
export function writeItemProblem(item: { name: string; index?: number | null; value: string }, masked: 'refused' | 'kept' = 'refused'): ItemProblem | null {
  const bootstrapOnly = bootstrapOnlyProblem(item);
  if (bootstrapOnly) return bootstrapOnly;
  // A value copied from a view that masked it (job list, items): the phone would keep the bullets as its password.
  if (item.value === MASK) {
    return masked === 'kept' ? null : { key: 'itemIsMask', params: { item: item.name, mask: MASK }, message: `${item.name} has the mask (${MASK}) as its value: type the real value` };
  }
  // Copied from a masked view around the mask (a URL's password or query): the phone would get the bullets (helper-63).
  if (masked === 'refused' && item.value.includes(MASK) && hasMaskedValues(item.name, item.value)) {
    return { key: 'itemHoldsMask', params: { item: item.name, mask: MASK }, message: `${item.name} holds the mask (${MASK}) in its value: type the whole value again` };
  }
  const entry = BY_NAME.get(item.name);
  if (!entry) return itemNameCaseProblem(item);
  const noIndex = item.index === undefined || item.index === null;
  // The file-* items are indexed only in a deployment of several files (manual p.55).
  const indexOptional = item.name.startsWith('file-') || entry.values.includes('index optional');
  if (entry.indexed && !indexOptional && noIndex) {
    // The value is echoed only when it is not a secret (the error is shown and logged).
    const example = `${item.name}[1]=${item.value !== '' && !isSecretItem(item.name) ? item.value : 'VALUE'}`;
    const which = /\[index: ([^\]]+)\]/.exec(entry.values)?.[1];
    return {
      key: which ? 'itemNeedsIndexOf' : 'itemNeedsIndex',
      params: { item: item.name, example, ...(which ? { which } : {}) },
      message: `${item.name} is indexed${which ? ` (index: ${which})` : ''}: say which one, e.g. ${example}`,
    };
  }
  if (item.value === '' && NEEDS_VALUE.has(entry.type)) {
    const at = `${item.name}${noIndex ? '' : `[${item.index}]`}`;
    const kind = entry.type === 'int' ? 'a number' : entry.type === 'bool' ? 'true or false' : entry.type === 'enum' ? 'one of its values' : `a ${entry.type} value`;
    const values = entry.values && entry.values !== 'unknown' ? (entry.values.length > 60 ? `${entry.values.slice(0, 59)}…` : entry.values) : '';
    const kindKey = entry.type === 'int' ? 'Number' : entry.type === 'bool' ? 'Bool' : entry.type === 'enum' ? 'Choice' : 'Type';
    return {
      key: `itemNeeds${kindKey}`,
      params: { item: at, type: entry.type, values },
      message: `${at} is empty, but it needs ${kind}${values ? ` (${values})` : ''}`,
    };
  }
  return null;
}

/** One item's identity in a set: its name and index (an item without index is another than index 0). */
export function itemKey(i: { name: string; index?: number | null }): string {
  return `${i.name}#${i.index ?? ''}`;
}
