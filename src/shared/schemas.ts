/**
 * The schemas of every user action's input, once (valibot): the API contract's argument types
 * are inferred from them, the command layer (src/main/commands) validates with them, and the
 * renderer may use them for field checks. Each rule's message is written as the end of a sentence
 * whose subject is the field ("spec.items[0].value must be a string"); `describeIssues` joins the
 * two, so the UI gets field-level messages and the CLI quotes them after its own flag names.
 */
import * as v from 'valibot';
import { searchableText, TEXT_TOO_SHORT } from './free-text';
import { MAC_EXAMPLE, normalizeMac } from './mac';
import { EXCHANGE_KINDS, ITEM_NAME_PATTERN, JOB_SPEC_KINDS, LIMITS, LISTENER_KINDS, MAX_ITEM_INDEX, PROFILE_NAME_PATTERN, TLS_LISTENERS, TLS_PROFILE_NAMES } from './constants';
import { JOB_KINDS, JOB_STATES } from './model';
import { clipped } from './quote';

export {
  EXCHANGE_KINDS,
  FILE_TYPES,
  ITEM_NAME_PATTERN,
  JOB_SPEC_KINDS,
  LIMITS,
  LISTENER_KINDS,
  MAX_ITEM_INDEX,
  PROFILE_NAME_PATTERN,
  TLS_LISTENERS,
  TLS_PROFILE_NAMES,
} from './constants';

// --- building blocks ---------------------------------------------------------------------------

const WHOLE = 'must be a whole number ≥ 0';

export const Id = v.pipe(v.number(WHOLE), v.safeInteger(WHOLE), v.minValue(0, WHOLE));

const text = (max: number) => v.pipe(v.string('must be a string'), v.maxLength(max, `must be at most ${max} characters`));
const trimmed = (max: number) => v.pipe(text(max), v.trim());

function oneOf<const T extends readonly string[]>(allowed: T, rule = `must be one of ${allowed.join(', ')}`) {
  return v.picklist(allowed, rule);
}

/** Absent, null or blank: undefined. Otherwise the trimmed text. */
const optionalText = (max: number) => v.pipe(v.nullish(trimmed(max)), v.transform((s): string | undefined => (s ? s : undefined)));
/** Absent or null: undefined. */
const absentOr = <S extends v.GenericSchema>(schema: S) => v.pipe(v.nullish(schema), v.transform((x): v.InferOutput<S> | undefined => x ?? undefined));

/**
 * Object with only these fields; an unknown one is named in the message. A missing field says what
 * it must be (its own schema's message for undefined).
 */
function exact<E extends v.ObjectEntries>(entries: E, what = 'must be an object') {
  return v.strictObject(entries, (issue) => {
    if (issue.expected === 'never') return 'has an unknown field';
    const key = issue.path?.at(-1)?.key;
    if (typeof key === 'string' && key in entries) {
      const r = v.safeParse(entries[key]!, undefined);
      return r.success ? 'is missing' : r.issues[0].message;
    }
    return what;
  });
}

/** Drops the keys whose value is undefined, so optional fields are absent rather than undefined. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as T;
}

/** A MAC address in any spelling src/shared/mac.ts accepts; the output is canonical. */
export const Mac = v.pipe(
  v.string('must be a MAC address'),
  v.maxLength(LIMITS.mac, `must be at most ${LIMITS.mac} characters`),
  v.trim(),
  v.check((s) => normalizeMac(s) !== null, (issue) => `${JSON.stringify(String(issue.input))} is not a MAC address (e.g. ${MAC_EXAMPLE})`),
  v.transform((s) => normalizeMac(s)!),
);

/** A list of devices: at least one, no duplicates (kept in the order given). */
export const MacList = v.pipe(
  v.array(Mac, 'must be a list of MAC addresses'),
  v.minLength(1, 'must name at least one device'),
  v.maxLength(LIMITS.macs, `may name at most ${LIMITS.macs} devices`),
  v.transform((list) => [...new Set(list)]),
);

const ItemName = v.pipe(
  text(LIMITS.itemName),
  v.trim(),
  v.check((n) => ITEM_NAME_PATTERN.test(n), (issue) => `"${clipped(String(issue.input).trim())}" is not an item name (a letter, then letters, digits, - _ .)`),
);
const ItemIndex = absentOr(v.pipe(Id, v.maxValue(MAX_ITEM_INDEX, `must be from 0 to ${MAX_ITEM_INDEX}`)));

/** Characters XML 1.0 cannot carry at all (control characters, lone surrogates, U+FFFE/U+FFFF): a phone could not read the message. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point: XML 1.0 cannot carry them
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const xmlText = (max: number) =>
  v.pipe(text(max), v.check((s) => !NOT_XML.test(s), (issue) => `holds a character XML cannot carry (U+${(String(issue.input).match(NOT_XML)?.[0] ?? '').charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}): a phone could not read the message`));

export const ItemValueSchema = v.pipe(
  exact({ name: ItemName, index: ItemIndex, value: xmlText(LIMITS.itemValue) }, 'must be an item {name, index?, value}'),
  v.transform(compact),
);
export const ItemRefSchema = v.pipe(
  v.custom<Record<string, unknown>>((x) => typeof x !== 'object' || x === null || !('value' in x) || x.value === undefined, 'a read names items without values'),
  exact({ name: ItemName, index: ItemIndex }, 'must be an item {name, index?}'),
  v.transform(compact),
);

const itemList = <S extends v.GenericSchema>(item: S, empty: string) =>
  v.pipe(v.array(item, 'must be a list'), v.maxLength(LIMITS.items, `may hold at most ${LIMITS.items} entries`), v.minLength(1, empty));

// The item rules (shared/item-rules.ts: key material, the mask, the catalogue's) are the commands',
// which give each problem as a text to translate too.
export const WriteItems = itemList(ItemValueSchema, 'must hold at least one item to write');
export const ReadItems = itemList(ItemRefSchema, 'must name at least one item to read');

// --- traffic ---------------------------------------------------------------------------------------

/** What the traffic list asks for. Every field is optional; absent means "any". */
export const ExchangeFilterSchema = v.pipe(
  exact(
    {
      /** MAC (any separators, partial) or peer address (partial). */
      device: optionalText(LIMITS.field),
      /** ReasonForContact of the phone's message, exactly. */
      reason: optionalText(LIMITS.field),
      /** Action of the service's answer, exactly. */
      action: optionalText(LIMITS.field),
      /** `200`, `4xx`, an HTTP status, or a reply status (`accepted`, `failed`, `busy`). */
      status: optionalText(LIMITS.field),
      /** Which listener (mode) took the connection. */
      listener: absentOr(oneOf(LISTENER_KINDS)),
      kind: absentOr(oneOf(EXCHANGE_KINDS)),
      /** Refused requests, failed TLS handshakes, HTTP ≥ 400 and failed replies (a busy one is not an error). */
      errorsOnly: v.pipe(v.nullish(v.boolean('must be true or false')), v.transform((b): boolean | undefined => (b ? true : undefined))),
      /** Free text: searched in the raw bodies (exact bytes) and, case-insensitively, in the summary fields. */
      text: v.pipe(optionalText(LIMITS.text), v.check((s) => s === undefined || searchableText(s), TEXT_TOO_SHORT)),
      interactionId: absentOr(Id),
      /** Only exchanges after this id: the floor a "clear view" sets. */
      sinceId: absentOr(Id),
    },
  ),
  v.transform(compact),
);

export const ExchangePageSchema = v.pipe(
  exact({
    /** At most this many rows (1–5000). */
    limit: v.pipe(Id, v.minValue(1, `must be from 1 to ${LIMITS.pageSize}`), v.maxValue(LIMITS.pageSize, `must be from 1 to ${LIMITS.pageSize}`)),
    /** The newest rows older than this id (loading further back). */
    beforeId: absentOr(Id),
    /** The oldest rows newer than this id (catching up). */
    afterId: absentOr(Id),
    /** Also count matching rows (costs a scan when filtering by text). Default true. */
    counts: absentOr(v.boolean('must be true or false')),
  }),
  v.check((p) => p.beforeId === undefined || p.afterId === undefined, 'takes beforeId or afterId, not both'),
  v.transform(compact),
);

export const ExportIds = v.pipe(
  v.array(Id, 'must be a list of exchange ids'),
  v.minLength(1, 'must name at least one exchange'),
  v.maxLength(LIMITS.exportIds, `may name at most ${LIMITS.exportIds} exchanges`),
);
export const ExportFormatSchema = v.picklist(['json', 'har'], 'must be "json" or "har"');
export const MessageSide = v.picklist(['request', 'response'], 'must be "request" or "response"');

// --- jobs --------------------------------------------------------------------------------------------

const FileDeleteSchema = v.pipe(
  exact({ name: v.pipe(text(255), v.trim()), type: trimmed(LIMITS.field) }, 'must be {name, type}'),
  v.check((d) => d.name !== '' && d.type !== '', 'needs a file name and a file type, e.g. logo.png and LOGO'),
);
const Url = trimmed(LIMITS.url);

/** A job to queue, in the words of `localdls job add`: the service builds the items. */
export const JobSpecSchema = v.pipe(
  v.variant(
    'kind',
    [
      exact({ kind: v.literal('write'), items: WriteItems }),
      exact({ kind: v.literal('read'), items: ReadItems }),
      exact({ kind: v.literal('read-all') }),
      exact({ kind: v.literal('restart') }),
      exact({ kind: v.literal('factory-reset') }),
      /** Files from https:// or ftp://user:password@host/path/name URLs; several get indexes and file-action. */
      exact({
        kind: v.literal('file'),
        /** One file type for every URL… */
        fileType: optionalText(LIMITS.field),
        urls: v.pipe(v.nullish(v.pipe(v.array(Url, 'must be a list'), v.maxLength(20, 'may hold at most 20 entries'))), v.transform((u) => u ?? [])),
        /** …or one per URL (same order), so `--type LOGO a.png --type RINGTONE b.wav` keeps each file's type. */
        fileTypes: absentOr(v.pipe(v.array(trimmed(LIMITS.field), 'must be a list'), v.maxLength(20, 'may hold at most 20 entries'))),
        deletes: absentOr(v.pipe(v.array(FileDeleteSchema, 'must be a list'), v.maxLength(20, 'may hold at most 20 entries'))),
      }),
      /** Firmware `version` like 3.5.12.0 from one URL; done when the phone reports that version. */
      exact({
        kind: v.literal('firmware'),
        version: trimmed(LIMITS.field),
        url: Url,
        swType: optionalText(LIMITS.field),
        priority: absentOr(oneOf(['normal', 'immediate'] as const)),
      }),
    ],
    (issue) => (issue.path?.length ? `must be one of ${JOB_SPEC_KINDS.join(', ')}` : 'must be an object with a kind'),
  ),
  v.transform(compact),
);

export const JobFilterSchema = v.pipe(
  exact({
    /** Exactly this device (any MAC spelling); blank = any. */
    mac: v.pipe(
      v.nullish(v.pipe(v.string('must be a MAC address'), v.maxLength(LIMITS.mac, `must be at most ${LIMITS.mac} characters`), v.trim())),
      v.check((m) => !m || normalizeMac(m) !== null, (issue) => `${JSON.stringify(String(issue.input).trim())} is not a MAC address (e.g. ${MAC_EXAMPLE})`),
      v.transform((m): string | undefined => (m ? normalizeMac(m)! : undefined)),
    ),
    states: absentOr(v.pipe(v.array(oneOf(JOB_STATES), 'must be a list'), v.maxLength(JOB_STATES.length, `may hold at most ${JOB_STATES.length} entries`), v.transform((s) => (s.length ? [...new Set(s)] : undefined)))),
    kinds: absentOr(v.pipe(v.array(oneOf(JOB_KINDS), 'must be a list'), v.maxLength(JOB_KINDS.length, `may hold at most ${JOB_KINDS.length} entries`), v.transform((k) => (k.length ? [...new Set(k)] : undefined)))),
    /** At most this many jobs, newest first (1–5000, default 500). */
    limit: absentOr(v.pipe(Id, v.minValue(1, `must be from 1 to ${LIMITS.jobs}`), v.maxValue(LIMITS.jobs, `must be from 1 to ${LIMITS.jobs}`))),
  }),
  v.transform(compact),
);

export const JobIdSchema = Id;

// --- profiles ----------------------------------------------------------------------------------------

export const ProfileName = v.pipe(
  text(LIMITS.field),
  v.trim(),
  v.check((n) => PROFILE_NAME_PATTERN.test(n), 'must be letters, digits, . _ - (up to 64)'),
);

export const ProfileInputSchema = v.pipe(
  exact({
    name: ProfileName,
    /** Only for devices of this type (e.g. "OpenStage 60"); blank = site-wide. */
    deviceType: optionalText(LIMITS.field),
    /** Plug & play: new devices whose MAC / E.164 match this glob (`*`, `?`) get the profile. */
    matchMac: optionalText(LIMITS.field),
    matchE164: optionalText(LIMITS.field),
    /** A secret value sent back as the mask (••••••) keeps the value stored for that item. */
    items: WriteItems,
  }),
  v.transform((p) => ({ name: p.name, deviceType: p.deviceType ?? null, matchMac: p.matchMac ?? null, matchE164: p.matchE164 ?? null, items: p.items })),
);

// --- Secure Mode ---------------------------------------------------------------------------------------

export const BootstrapOptionsSchema = v.pipe(
  exact(
    {
      /** `none`: credentials in dls-client-certificate; `auto`: a random PIN per phone; or the PIN itself (one phone). */
      pin: v.pipe(
        v.string('must be "none", "auto" or a PIN of 6 to 16 digits'),
        v.maxLength(16, 'must be "none", "auto" or a PIN of 6 to 16 digits'),
        v.trim(),
        v.check((p) => p === 'none' || p === 'auto' || /^\d{6,16}$/.test(p), 'must be "none", "auto" or a PIN of 6 to 16 digits'),
      ),
      /** How often the PIN may be mistyped on the phone (1–10, manual p.67). */
      maxPinRetries: v.pipe(Id, v.minValue(1, 'must be from 1 to 10'), v.maxValue(10, 'must be from 1 to 10')),
      /** Length of generated PINs (6–16, default 8). */
      pinDigits: absentOr(v.pipe(Id, v.minValue(6, 'must be from 6 to 16'), v.maxValue(16, 'must be from 6 to 16'))),
    },
    'must be an object {pin, maxPinRetries}',
  ),
  v.transform(compact),
);

export const RunId = v.pipe(text(LIMITS.field), v.regex(/^[A-Za-z0-9_-]+$/, 'is not a bootstrap run id'));
export const SheetFormat = oneOf(['csv', 'html'] as const);
export const TlsListenerSchema = oneOf(TLS_LISTENERS);
export const TlsProfileSchema = oneOf(TLS_PROFILE_NAMES);
/** Relay mode as chosen in the app: the upstream DLS, its CA file and accepted fingerprints; null = off. */
export const UpstreamSettingSchema = v.nullable(
  exact(
    {
      url: v.pipe(trimmed(300), v.minLength(1, 'must not be empty (https://HOST:PORT)')),
      caFile: optionalText(4096),
      fingerprints: v.optional(v.pipe(v.array(trimmed(200), 'must be a list of fingerprints'), v.maxLength(16, 'must hold at most 16 fingerprints'))),
    },
    'must be an object {url, caFile, fingerprints} or null',
  ),
);

// --- types -------------------------------------------------------------------------------------------

export type ExchangeFilter = v.InferOutput<typeof ExchangeFilterSchema>;
export type ExchangePage = v.InferOutput<typeof ExchangePageSchema>;
export type ExportFormat = v.InferOutput<typeof ExportFormatSchema>;
export type JobSpec = v.InferOutput<typeof JobSpecSchema>;
export type JobSpecKind = JobSpec['kind'];
export type ItemRef = v.InferOutput<typeof ItemRefSchema>;
export type FileDelete = v.InferOutput<typeof FileDeleteSchema>;
export type JobFilter = v.InferOutput<typeof JobFilterSchema>;
export type ProfileInput = v.InferOutput<typeof ProfileInputSchema>;
export type BootstrapOptions = v.InferOutput<typeof BootstrapOptionsSchema>;
export type TlsListener = v.InferOutput<typeof TlsListenerSchema>;
export type TlsProfileName = v.InferOutput<typeof TlsProfileSchema>;
export type UpstreamSettingInput = v.InferOutput<typeof UpstreamSettingSchema>;

// --- messages ------------------------------------------------------------------------------------------

/** `spec.items[0].value` from a root name and an issue's path. */
function pathOf(root: string, issue: v.BaseIssue<unknown>): string {
  let out = root;
  for (const step of issue.path ?? []) {
    const key = (step as { key: unknown }).key;
    out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  }
  return out;
}

/** The first problem as one sentence: "<field> <rule>", with unknown fields named. */
export function describeIssues(root: string, issues: readonly v.BaseIssue<unknown>[]): string {
  const issue = issues[0]!;
  // An unknown field: the path ends at it; say which object has it.
  if (issue.expected === 'never' && issue.path?.length) {
    const key = String((issue.path.at(-1) as { key: unknown }).key).slice(0, 40);
    const parent = pathOf(root, { ...issue, path: issue.path.slice(0, -1) } as v.BaseIssue<unknown>);
    return `${parent} has an unknown field "${key}"`;
  }
  const field = pathOf(root, issue);
  return field ? `${field} ${issue.message}` : issue.message;
}
