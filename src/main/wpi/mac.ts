/** The codec's MAC normaliser is the one in src/shared/mac.ts (the renderer uses it too). */
export { normalizeMac } from '../../shared/mac';
