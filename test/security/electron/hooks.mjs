/**
 * Module hooks for running the built Electron main process under plain Node (the Electron binary
 * is not installed): `electron` resolves to fake-electron.mjs; other bare specifiers resolve from
 * the repository, so a bundle built into a temporary folder finds node_modules.
 */
const FAKE = new URL('./fake-electron.mjs', import.meta.url).href;
const ROOT = new URL('../../../package.json', import.meta.url).href;

export async function resolve(specifier, context, next) {
  if (specifier === 'electron') return { url: FAKE, format: 'module', shortCircuit: true };
  const bare = !specifier.startsWith('.') && !specifier.startsWith('/') && !/^[a-z]+:/i.test(specifier);
  if (bare) return next(specifier, { ...context, parentURL: ROOT });
  return next(specifier, context);
}
