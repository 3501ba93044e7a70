import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { copyText } from '../lib/download';

export function CopyButton({ text, label, title }: { text: string; label?: string; title?: string }) {
  const { t } = useTranslation('common');
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      className="btn btn-small"
      title={title ?? t('copy.title')}
      onClick={() => {
        void copyText(text).then(() => {
          setDone(true);
          setTimeout(() => setDone(false), 1200);
        });
      }}
    >
      {done ? t('copy.copied') : (label ?? t('copy.copy'))}
    </button>
  );
}
