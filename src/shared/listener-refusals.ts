/**
 * Why the listener refused a request before reading it as WPI (net/wpi-listener.ts: too many
 * headers, not a WPI path, not POST, too large, too slow), in the service's English words, which the
 * store keeps and the CLI prints; the UI reads them back and says them in its language
 * (traffic.json `refusalText.*`). The path as the client sent it (masked) stays as it came. The
 * refusals of a message's content: not XML or not WPI in shared/wpi-refusals.ts, for who sent it
 * (identity, replay, cookies) in shared/engine-refusals.ts.
 */
import { phrasebook } from './phrasebook';

export const LISTENER_REFUSALS = phrasebook({
  tooManyHeaders: [(p) => `more than ${p.max} request headers`, /^more than (\d+) request headers$/, ['max']],
  noService: [(p) => `no WPI service at ${p.path}; phones POST to ${p.prefix}LoginService`, /^no WPI service at ([\s\S]*); phones POST to (\S+)LoginService$/, ['path', 'prefix']],
  method: [(p) => `method ${p.method} not allowed; WPI messages are POSTed`, /^method (\S*) not allowed; WPI messages are POSTed$/, ['method']],
  bodyDeclared: [(p) => `body of ${p.declared} bytes exceeds the limit of ${p.max}`, /^body of (\d+) bytes exceeds the limit of (\d+)$/, ['declared', 'max']],
  bodyTooLarge: [(p) => `body exceeds the limit of ${p.max} bytes`, /^body exceeds the limit of (\d+) bytes$/, ['max']],
  bodyTimeout: [(p) => `request body not complete within ${p.ms} ms`, /^request body not complete within (\d+) ms$/, ['ms']],
  headersTimeout: [(p) => `request headers not complete within ${p.ms} ms`, /^request headers not complete within (\d+) ms$/, ['ms']],
});

export type ListenerRefusalKey = Parameters<typeof LISTENER_REFUSALS.text>[0];

export const listenerRefusalText = (key: ListenerRefusalKey, params: Record<string, string> = {}): string => LISTENER_REFUSALS.text(key, params);

/** A refusal recorded for several alike (the noise limit): the first one's words and how many more were not. */
export const similarNotRecorded = (text: string, count: number): string => `${text} (${count} similar not recorded)`;
export const SIMILAR_NOT_RECORDED = /^([\s\S]*) \((\d+) similar not recorded\)$/;
