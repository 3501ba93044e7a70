/** Node's flat `rawHeaders` (name, value, name, value, …) as pairs, names in the case they came in. */
export function headerPairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string]);
  return out;
}
