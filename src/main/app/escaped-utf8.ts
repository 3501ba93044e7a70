/**
 * Bytes as text and back without losing any: UTF-8, each byte that is not part of a valid UTF-8
 * sequence kept as a lone surrogate U+DC80–U+DCFF (Python's "surrogateescape"). A valid UTF-8
 * decoding never yields a lone surrogate, so the way back is exact. Used where text is changed in
 * place (keys masked before storing) and every other byte must stay as it came.
 */
import { isUtf8 } from 'node:buffer';

const ESCAPE = 0xdc00;

/** The text of `bytes`, invalid bytes escaped. Linear in the length. */
export function decodeEscaped(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let out = '';
  let run = 0;
  for (let i = 0; i < bytes.length; ) {
    const n = validSequenceAt(bytes, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += bytes.toString('utf8', run, i) + String.fromCharCode(ESCAPE + bytes[i]!);
    run = ++i;
  }
  return out + bytes.toString('utf8', run);
}

/** The bytes of text from decodeEscaped (changed or not): escapes become their bytes again. */
export function encodeEscaped(text: string): Buffer {
  const escape = /[\uDC80-\uDCFF]/g;
  if (!escape.test(text)) return Buffer.from(text, 'utf8');
  escape.lastIndex = 0;
  const parts: Buffer[] = [];
  let run = 0;
  for (let m = escape.exec(text); m !== null; m = escape.exec(text)) {
    // A low surrogate after a high one is half of a pair, not an escape.
    if (m.index > 0 && isHighSurrogate(text.charCodeAt(m.index - 1))) continue;
    parts.push(Buffer.from(text.slice(run, m.index), 'utf8'), Buffer.of(text.charCodeAt(m.index) - ESCAPE));
    run = m.index + 1;
  }
  parts.push(Buffer.from(text.slice(run), 'utf8'));
  return Buffer.concat(parts);
}

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;

/** Length of the valid UTF-8 sequence at i (RFC 3629: no overlongs, surrogates or > U+10FFFF), 0 if none. */
function validSequenceAt(b: Buffer, i: number): number {
  const lead = b[i]!;
  if (lead < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (lead >= 0xc2 && lead <= 0xdf) return cont(1) ? 2 : 0;
  if (lead === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (lead === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (lead >= 0xe1 && lead <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (lead === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (lead >= 0xf1 && lead <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (lead === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}
