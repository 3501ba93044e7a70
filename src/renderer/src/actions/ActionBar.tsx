/**
 * What can be done to the selected devices (the devices table's selection, or the one device of
 * its page): read all, write/read items, restart, factory reset, contact now, apply a profile,
 * deploy a file or firmware, bootstrap into Secure Mode. Every action says what became of it.
 */
import { useState } from 'react';
import type { DeviceView } from '../../../shared/api';
import { useApi } from '../api/ApiContext';
import { useToast } from '../common/Toasts';
import { clockTime } from '../lib/format';
import { go, href } from '../lib/route';
import { ConfirmJobDialog, DeployDialog, ItemsDialog, ProfileDialog, targetsText, useJobsQueued } from './dialogs';

type Open = null | 'write' | 'read' | 'restart' | 'factory-reset' | 'profile' | 'deploy';

export interface ActionBarProps {
  macs: string[];
  /** For naming the devices in confirmations. */
  devices?: ReadonlyMap<string, DeviceView>;
}

export function ActionBar({ macs, devices }: ActionBarProps) {
  const api = useApi();
  const toast = useToast();
  const queued = useJobsQueued();
  const [open, setOpen] = useState<Open>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const none = macs.length === 0;

  const readAll = () => {
    setBusy('read-all');
    api.addJob(macs, { kind: 'read-all' }).then(
      (r) => queued('Read all', macs, r),
      (e: unknown) => toast.error(`Read all not queued for ${targetsText(macs)}`, e),
    ).finally(() => setBusy(null));
  };

  const contact = () => {
    setBusy('contact');
    api.contactNow(macs).then(
      (results) => {
        const sent = results.filter((r) => r.ok).length;
        const lines = results.map((r) =>
          r.ok ? `${r.mac}: contact-me answered, the phone will call`
            : r.skipped ? `${r.mac}: not sent: ${r.skipped}${r.nextAt ? ` (next at ${clockTime(r.nextAt).slice(0, 8)})` : ''}`
              : `${r.mac}: failed: ${r.error ?? 'no answer'}`,
        );
        toast.push(sent === results.length ? 'ok' : sent ? 'warn' : 'error', sent ? `Contact-me sent to ${sent} of ${results.length} phone${results.length > 1 ? 's' : ''}` : 'No contact-me sent', lines);
      },
      (e: unknown) => toast.error('Contact-me not sent', e),
    ).finally(() => setBusy(null));
  };

  const close = () => setOpen(null);
  return (
    <div className="actionbar" role="toolbar" aria-label="Device actions">
      <button type="button" className="btn" disabled={none || busy !== null} onClick={readAll}>Read all</button>
      <button type="button" className="btn" disabled={none} onClick={() => setOpen('write')}>Write items…</button>
      <button type="button" className="btn" disabled={none} onClick={() => setOpen('read')}>Read items…</button>
      <button type="button" className="btn" disabled={none || busy !== null} onClick={contact} title="Ask the phones to call now (within their contact gap)">Contact now</button>
      <button type="button" className="btn" disabled={none} onClick={() => setOpen('profile')}>Apply profile…</button>
      <button type="button" className="btn" disabled={none} onClick={() => setOpen('deploy')}>Deploy…</button>
      <span className="actionbar-sep" />
      <button type="button" className="btn" disabled={none} onClick={() => setOpen('restart')}>Restart…</button>
      <button type="button" className="btn btn-danger-outline" disabled={none} onClick={() => setOpen('factory-reset')}>Factory reset…</button>
      <button type="button" className="btn btn-secure" disabled={none} onClick={() => go(href('bootstrap', { macs: macs.join(',') }))}>Bootstrap…</button>
      {open === 'write' || open === 'read' ? <ItemsDialog mode={open} macs={macs} onClose={close} /> : null}
      {open === 'restart' || open === 'factory-reset' ? <ConfirmJobDialog what={open} macs={macs} devices={devices} onClose={close} /> : null}
      {open === 'profile' ? <ProfileDialog macs={macs} onClose={close} /> : null}
      {open === 'deploy' ? <DeployDialog macs={macs} onClose={close} /> : null}
    </div>
  );
}

