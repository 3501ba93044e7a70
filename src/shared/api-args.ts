/**
 * The arguments of each call of the API contract (src/shared/api.ts): their names and schemas, in
 * order. The command layer validates with these, so every front end refuses the same inputs with
 * the same words. Kept apart from api.ts so the preload, which imports the contract, bundles no
 * schema library.
 */
import * as v from 'valibot';
import { ApiArgumentError, isApiMethod, type ApiMethod, type ApiText, type LocalDlsCommands } from './api';
import {
  BootstrapOptionsSchema,
  describeIssues,
  ExchangeFilterSchema,
  ExchangePageSchema,
  ExportFormatSchema,
  ExportIds,
  Id,
  JobFilterSchema,
  JobSpecSchema,
  LIMITS,
  Mac,
  MacList,
  MessageSide,
  ProfileInputSchema,
  ProfileName,
  ReadItems,
  RunId,
  SheetFormat,
  TlsListenerSchema,
  TlsProfileSchema,
  UpstreamSettingSchema,
  WriteItems,
} from './schemas';

const NAME = v.pipe(v.string('must be a string'), v.maxLength(LIMITS.itemName, `must be at most ${LIMITS.itemName} characters`));
const INDEX_OR_NULL = v.nullable(Id);
/** `j<created ms>-<JobKind>` (bulk jobs) or `b-<bootstrap run id>`. */
export const RolloutId = v.pipe(
  v.string('must be a string'),
  v.maxLength(80, 'must be at most 80 characters'),
  v.regex(/^(j\d{1,15}-[A-Za-z]{1,40}|b-[A-Za-z0-9_-]{1,64})$/, 'is not a rollout id (j<time>-<kind> or b-<run>)'),
);
/** A file for the TLS key log, or null to stop it. */
const KeyLogPath = v.nullable(
  v.pipe(
    v.string('must be a file name or null'),
    v.minLength(1, 'must name a file'),
    v.maxLength(4096, 'must be at most 4096 characters'),
    v.check((p) => !p.includes('\0'), 'must not contain NUL'),
  ),
);

/** The schemas of each call's arguments, by name; the command layer validates with these. */
export const API_ARGS = {
  getStatus: [],
  listExchanges: [['filter', ExchangeFilterSchema], ['page', ExchangePageSchema]],
  getExchange: [['id', Id]],
  revealExchangeItem: [['id', Id], ['side', MessageSide], ['position', Id]],
  exportExchanges: [['ids', ExportIds], ['format', ExportFormatSchema]],
  clearView: [],
  listDevices: [],
  getDevice: [['mac', Mac]],
  revealDeviceItem: [['mac', Mac], ['name', NAME], ['index', INDEX_OR_NULL]],
  listJobs: [['filter', JobFilterSchema]],
  addJob: [['macs', MacList], ['spec', JobSpecSchema]],
  cancelJob: [['id', Id]],
  contactNow: [['macs', MacList]],
  listProfiles: [],
  setProfile: [['profile', ProfileInputSchema]],
  applyProfile: [['name', ProfileName], ['macs', MacList]],
  getOverrides: [['mac', Mac]],
  setOverrides: [['mac', Mac], ['items', WriteItems]],
  clearOverrides: [['mac', Mac], ['items', v.nullable(ReadItems)]],
  itemCatalogue: [],
  getSecureStatus: [],
  startBootstrap: [['macs', MacList], ['options', BootstrapOptionsSchema]],
  getBootstrapRun: [['runId', RunId]],
  bootstrapPinSheet: [['runId', RunId], ['format', SheetFormat]],
  cancelBootstrapRun: [['runId', RunId]],
  setTlsProfile: [['listener', TlsListenerSchema], ['profile', TlsProfileSchema]],
  setUpstream: [['setting', UpstreamSettingSchema]],
  exportTraffic: [['filter', ExchangeFilterSchema], ['format', ExportFormatSchema]],
  getInteraction: [['id', Id]],
  getDeviceTimeline: [['mac', Mac]],
  listRollouts: [],
  getRollout: [['id', RolloutId]],
  retryFailed: [['id', RolloutId]],
  setTlsKeyLog: [['path', KeyLogPath]],
} as const satisfies { [M in ApiMethod]: readonly (readonly [string, v.GenericSchema])[] };

/**
 * A refused plain value (a MAC or id, e.g. from an address the user typed) in the UI's words (the
 * `errors` namespace): the value as given, never the method's
 * internal name (the English message keeps the detail, for the CLI and logs).
 */
function argumentTexts(name: string, value: unknown): ApiText[] | undefined {
  // Only what an address carries (#/devices/MAC, #/timeline/MAC, #/interaction/ID, rollout ids);
  // the rest (a job spec, a filter, a profile name) keeps the validator's precise English words.
  if ((name !== 'mac' && name !== 'id') || (typeof value !== 'string' && typeof value !== 'number')) return undefined;
  const shown = String(value).slice(0, 80);
  if (name === 'mac') return [{ key: 'badMac', params: { value: shown } }];
  return [{ key: 'badArgument', params: { argument: name, value: shown } }];
}

/** Checks one argument against its schema; throws ApiArgumentError naming the field. */
export function parseArgument<S extends v.GenericSchema>(schema: S, name: string, value: unknown, where: string): v.InferOutput<S> {
  const r = v.safeParse(schema, value);
  if (!r.success) throw new ApiArgumentError(`${where ? `${where}: ` : ''}${describeIssues(name, r.issues)}`, argumentTexts(name, value));
  return r.output;
}

/** Checks and normalises a call's arguments (arity too); throws ApiArgumentError with a clear message. */
export function validateArgs<M extends ApiMethod>(method: M, args: unknown[]): Parameters<LocalDlsCommands[M]> {
  if (!isApiMethod(method)) throw new ApiArgumentError(`unknown method "${String(method).slice(0, 40)}"`);
  const spec = API_ARGS[method] as readonly (readonly [string, v.GenericSchema])[];
  if (!Array.isArray(args)) throw new ApiArgumentError(`${method}: arguments must be a list`);
  if (args.length !== spec.length) {
    throw new ApiArgumentError(`${method}: this call ${spec.length === 0 ? 'takes no arguments' : `takes ${spec.length} argument${spec.length === 1 ? '' : 's'}, not ${args.length}`}`);
  }
  return spec.map(([name, schema], i) => parseArgument(schema, name, args[i], method)) as Parameters<LocalDlsCommands[M]>;
}

