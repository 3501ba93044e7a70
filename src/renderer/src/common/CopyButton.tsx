import { useState } from 'react';
import { copyText } from '../lib/download';

export function CopyButton({ text, label = 'Copy', title }: { text: string; label?: string; title?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      className="btn btn-small"
      title={title ?? 'Copy to the clipboard'}
      onClick={() => {
        void copyText(text).then(() => {
          setDone(true);
          setTimeout(() => setDone(false), 1200);
        });
      }}
    >
      {done ? 'Copied' : label}
    </button>
  );
}
