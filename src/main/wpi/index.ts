export * from './types';
export { WpiError, type WpiErrorCode } from './errors';
export { parseWorkpointMessage, parseDLSMessage } from './parse';
export { buildDLSMessage, buildWorkpointMessage } from './build';
export { splitItems, type SplitLimits } from './fragment';
export { itemGroup } from './groups';
export { refusedItemCount } from './refused-items';
export { normalizeMac } from './mac';
export { wellFormednessProblem } from './xml';
