/**
 * A translated text whose `backticked` parts are commands or file names: shown as <code>, not with
 * the backticks (the translations keep them as the one markup, so no sentence is split in pieces).
 */
export function CodeText({ text }: { text: string }) {
  const parts = text.split('`');
  // An odd count of backticks: show the text as it is rather than guess.
  if (parts.length % 2 === 0) return <>{text}</>;
  return <>{parts.map((p, i) => (i % 2 === 1 ? <code key={i}>{p}</code> : p))}</>;
}

/** The same text for a tooltip or other plain-text place: the backticks become quotes. */
export const plainCode = (text: string): string => text.replace(/`([^`]*)`/g, '“$1”');
