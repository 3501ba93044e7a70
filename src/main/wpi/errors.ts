/** Why a message was refused. One code per problem so callers and tests can tell them apart. */
export type WpiErrorCode =
  | 'empty'
  | 'not-utf8'
  | 'not-xml'
  | 'doctype'
  | 'too-deep'
  | 'wrong-root'
  | 'no-message'
  | 'no-nonce'
  | 'bad-nonce'
  | 'no-reason'
  | 'unknown-reason'
  | 'no-action'
  | 'unknown-action'
  | 'item-without-name'
  | 'bad-index'
  | 'bad-attribute'
  | 'duplicate-element'
  | 'duplicate-attribute';

/** A message the codec refuses; `message` is one line a person can act on. */
export class WpiError extends Error {
  readonly code: WpiErrorCode;
  constructor(code: WpiErrorCode, message: string) {
    super(message);
    this.name = 'WpiError';
    this.code = code;
  }
}
