/**
 * Which items must travel in one message when the service splits a WriteItems (manual p.71: "all
 * related data items must be sent in a single message"): every item of one index of a family,
 * the file-* items of one file, the XML-app-* items of one application, one key's definition.
 */
import type { Item } from './types';

/** Item families whose members share an index and only make sense together. */
const FAMILIES: [RegExp, string][] = [
  [/^file-/, 'file'],
  [/^XML-app-/, 'XML-app'],
  // A key's definition: function, label, BLF/stimulus/forwarding/line/send-URL settings (notes §4).
  [/^(function-key-def|key-label|blf-|stimulus-|forwarding-|line-|send-url-|FPK-)/, 'key'],
];

export function itemGroup(item: Item): string {
  const family = FAMILIES.find(([re]) => re.test(item.name))?.[1];
  if (family === undefined) return item.index === undefined ? `item:${item.name}` : `item:${item.name}#${item.index}`;
  // file-* and XML-app-* without index form one single-file/single-app group (manual p.53).
  return item.index === undefined ? `${family}` : `${family}#${item.index}`;
}
