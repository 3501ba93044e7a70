/**
 * What can be done to the selected devices (the devices table's selection, or the one device of
 * its page): read all, write/read items, restart, factory reset, contact now, apply a profile,
 * deploy a file or firmware, bootstrap into Secure Mode. Every action says what became of it.
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { DeviceView } from '../../../shared/api';
import { useApi } from '../api/ApiContext';
import { useToast } from '../common/Toasts';
import { clockTime } from '../lib/format';
import { skipReason } from '../lib/skip-reason';
import { contactMeError } from '../lib/contact-me-error';
import { go, href } from '../lib/route';
import { useServiceStatus } from '../status/StatusContext';
import { ConfirmJobDialog, DeployDialog, ItemsDialog, ProfileDialog, targetsText, useJobsQueued } from './dialogs';

type Open = null | 'write' | 'read' | 'restart' | 'factory-reset' | 'profile' | 'deploy';

export interface ActionBarProps {
  macs: string[];
  /** For naming the devices in confirmations. */
  devices?: ReadonlyMap<string, DeviceView>;
}

export function ActionBar({ macs, devices }: ActionBarProps) {
  const { t } = useTranslation('actions');
  const api = useApi();
  const toast = useToast();
  const queued = useJobsQueued();
  const [open, setOpen] = useState<Open>(null);
  const [busy, setBusy] = useState<string | null>(null);
  // Relaying, the DLS sends the jobs: nothing here would be done (helper-81: each refused only
  // after a click). Said beside the buttons, which stay in place, off.
  const relay = useServiceStatus()?.relay;
  const off = macs.length === 0 || !!relay;

  const readAll = () => {
    setBusy('read-all');
    api.addJob(macs, { kind: 'read-all' }).then(
      (r) => queued(t('bar.readAll'), macs, r),
      (e: unknown) => toast.error(t('bar.readAllFailed', { targets: targetsText(macs, t) }), e),
    ).finally(() => setBusy(null));
  };

  const contact = () => {
    setBusy('contact');
    api.contactNow(macs).then(
      (results) => {
        const sent = results.filter((r) => r.ok).length;
        const lines = results.map((r) =>
          r.ok ? t('contact.answered', { mac: r.mac })
            // The reason with its key names its moment itself, in this computer's time; an older service's only in UTC.
            : r.skipped ? (r.nextAt && !r.skip ? t('contact.skippedNext', { mac: r.mac, why: r.skipped, at: clockTime(r.nextAt).slice(0, 8) }) : t('contact.skipped', { mac: r.mac, why: skipReason(r.skip, r.skipped) }))
              : r.failedJobs?.length ? t('contact.failedJobs', { mac: r.mac, error: contactMeError(r.error ?? ''), count: r.failures ?? 0, jobs: r.failedJobs.join(', ') })
                : t('contact.failed', { mac: r.mac, error: r.error ? contactMeError(r.error) : t('contact.noAnswer') }),
        );
        toast.push(sent === results.length ? 'ok' : sent ? 'warn' : 'error', sent ? t('contact.sent', { sent, count: results.length }) : t('contact.none'), lines);
      },
      (e: unknown) => toast.error(t('contact.notSent'), e),
    ).finally(() => setBusy(null));
  };

  const close = () => setOpen(null);
  return (
    <div className="actionbar" role="toolbar" aria-label={t('bar.label')}>
      <button type="button" className="btn" disabled={off || busy !== null} onClick={readAll}>{t('bar.readAll')}</button>
      <button type="button" className="btn" disabled={off} onClick={() => setOpen('write')}>{t('bar.write')}</button>
      <button type="button" className="btn" disabled={off} onClick={() => setOpen('read')}>{t('bar.read')}</button>
      <button type="button" className="btn" disabled={off || busy !== null} onClick={contact} title={t('bar.contactTitle')}>{t('bar.contact')}</button>
      <button type="button" className="btn" disabled={off} onClick={() => setOpen('profile')}>{t('bar.profile')}</button>
      <button type="button" className="btn" disabled={off} onClick={() => setOpen('deploy')}>{t('bar.deploy')}</button>
      <span className="actionbar-sep" />
      <button type="button" className="btn" disabled={off} onClick={() => setOpen('restart')}>{t('bar.restart')}</button>
      <button type="button" className="btn btn-danger-outline" disabled={off} onClick={() => setOpen('factory-reset')}>{t('bar.factoryReset')}</button>
      <button type="button" className="btn btn-secure" disabled={off} onClick={() => go(href('bootstrap', { macs: macs.join(',') }))}>{t('bar.bootstrap')}</button>
      {relay ? <span className="muted actionbar-note" data-testid="actions-relaying">{t('bar.relaying', { upstream: relay.upstream })}</span> : null}
      {open === 'write' || open === 'read' ? <ItemsDialog mode={open} macs={macs} onClose={close} /> : null}
      {open === 'restart' || open === 'factory-reset' ? <ConfirmJobDialog what={open} macs={macs} devices={devices} onClose={close} /> : null}
      {open === 'profile' ? <ProfileDialog macs={macs} onClose={close} /> : null}
      {open === 'deploy' ? <DeployDialog macs={macs} onClose={close} /> : null}
    </div>
  );
}

