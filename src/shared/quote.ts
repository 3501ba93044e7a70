/** Quoting what someone else typed or sent in a message of ours: short, however long it was. */

/** `text` cut at `max` characters with an ellipsis: a line says what was wrong, not all of it. */
export function clipped(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
