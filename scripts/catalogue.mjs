#!/usr/bin/env node
/**
 * Turns the research catalogue (wpi-items.tsv, one row per WPI item) into the project's own copy,
 * src/shared/item-catalogue.json, so nothing at run time depends on the shared reference folder.
 *
 *   node scripts/catalogue.mjs [path/to/wpi-items.tsv] [path/to/output.json]
 *
 * Rows keep the TSV order (grouped by topic); output is 2-space JSON with a final newline, so
 * re-running on the same TSV gives a byte-identical file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const input = resolve(process.argv[2] ?? resolve(root, '../shared/reference/wpi-items.tsv'));
const output = resolve(process.argv[3] ?? resolve(root, 'src/shared/item-catalogue.json'));

const COLUMNS = ['name', 'indexed', 'type', 'values_or_range', 'default', 'group', 'readonly', 'description', 'source'];
const READONLY = new Set(['yes', 'no', 'unknown']);

function fail(message) {
  console.error(`catalogue: ${message}`);
  process.exit(1);
}

let text;
try {
  text = readFileSync(input, 'utf8');
} catch (err) {
  fail(`cannot read ${input}: ${err.message}`);
}

const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim() !== '');
const header = lines.shift()?.split('\t') ?? [];
if (header.join('\t') !== COLUMNS.join('\t')) {
  fail(`unexpected header in ${input}: expected the columns ${COLUMNS.join(', ')}`);
}

/**
 * Items whose values are secrets (passwords, SNMP communities, key material, the PIN's TAN): shown
 * masked everywhere, revealed only on request. By name, from the descriptions, not by "pwd" in
 * the name: admin-pwd-status, pwd-retries or fault-report-admin-pwd are flags and counters.
 */
const SECRETS = new Set([
  'bootstrapping-tan', 'cloud-pin-value', 'dls-client-certificate', 'secure-mode-data', 'wbm-server-certificate', 'restart-password',
  'user-pwd', 'user-pwd-unicode', 'user-pwd-hash', 'admin-pwd', 'admin-pwd-unicode', 'sip-pwd', 'file-pwd', 'ldap-pwd',
  'send-url-passwd', 'line-sip-pwd', 'diagnostic-trap-pwd', 'qdc-trap-pwd', 'snmp-pwd', 'snmp-trap-pwd',
]);

const seen = new Set();
const entries = lines.map((line, i) => {
  const cells = line.split('\t').map((c) => c.trim());
  const row = i + 2;
  if (cells.length !== COLUMNS.length) fail(`line ${row}: ${cells.length} columns, expected ${COLUMNS.length}`);
  const [name, indexed, type, values, dflt, group, readonly, description] = cells;
  if (!name) fail(`line ${row}: empty item name`);
  if (seen.has(name)) fail(`line ${row}: duplicate item "${name}"`);
  seen.add(name);
  if (!READONLY.has(readonly)) fail(`line ${row}: readonly must be yes, no or unknown, not "${readonly}"`);
  // "unknown" (ldap-server-address) counts as not indexed: the phone may send it without an index.
  return { name, indexed: indexed === 'yes', type, values, default: dflt, group, readonly, description, secret: SECRETS.has(name) };
});
const missing = [...SECRETS].filter((n) => !seen.has(n));
if (missing.length) fail(`secret items not in ${input}: ${missing.join(', ')}`);

writeFileSync(output, `${JSON.stringify(entries, null, 2)}\n`);
console.log(`catalogue: wrote ${entries.length} items to ${output}`);
