/** Shared fixtures for the WPI codec tests. */
import { expect } from 'vitest';
import { WpiError, type WpiErrorCode } from '../../src/main/wpi';

/** Namespace declarations as printed in the manual's examples. */
export const NS_ATTRS =
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://www.siemens.com/DLS" xsi:schemaLocation="http://www.siemens.com/DLS"';

/** Nonces as printed in the manual: 32 upper-case hex and a 23-character lower-case token. */
export const NONCE_HEX32 = '2253A404241C11D774122654989181BC';
export const NONCE_LOWER23 = 'ab15234de14f15a667c6f8d';

/** A WorkpointMessage document around `inner` (the content of <Message>). */
export function wpm(inner: string, messageAttrs = `nonce="${NONCE_HEX32}" maxItems="-1"`, rootAttrs = NS_ATTRS): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<WorkpointMessage ${rootAttrs}>\n<Message ${messageAttrs}>\n${inner}\n</Message>\n</WorkpointMessage>\n`;
}

/** A DLSMessage document around `inner` (the content of <Message>). */
export function dlsm(inner: string, messageAttrs = `nonce="${NONCE_HEX32}"`): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<DLSMessage ${NS_ATTRS}>\n<Message ${messageAttrs}>\n${inner}\n</Message>\n</DLSMessage>\n`;
}

/** Runs `fn`, which must throw a WpiError; returns it (any other outcome fails the test). */
export function catchWpi(fn: () => unknown): WpiError {
  let result: unknown;
  try {
    result = fn();
  } catch (err) {
    if (err instanceof WpiError) return err;
    throw new Error(`expected a WpiError, got ${String(err)}`);
  }
  throw new Error(`expected a WpiError, but it returned ${JSON.stringify(result)}`);
}

/** Asserts the refusal code and that the message is one non-empty line naming the problem. */
export function expectRefusal(fn: () => unknown, code: WpiErrorCode, names: RegExp): WpiError {
  const err = catchWpi(fn);
  expect(err.code).toBe(code);
  expect(err.name).toBe('WpiError');
  expect(err.message.trim()).not.toBe('');
  expect(err.message).not.toMatch(/[\r\n]/);
  expect(err.message).toMatch(names);
  return err;
}
