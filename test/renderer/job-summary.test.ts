/**
 * A file deployment's row in the jobs view names each file once, as the phone stores it and as the
 * CLI names it (helper-73: the row split URLs itself, undecoded, with the masked query, twice for
 * an index with both a file-name and a URL).
 */
import { describe, expect, it } from 'vitest';
import { jobWords } from '../../src/renderer/src/lib/jobs';
import { i18next, loadAllNamespaces } from '../../src/renderer/src/i18n';
import type { Job } from '../../src/shared/model';
import { MASK } from '../../src/shared/secrets';

describe('the jobs view: a file deployment in one line', () => {
  it('each file once, its name decoded, without its query or password, with its type', async () => {
    await loadAllNamespaces();
    // As `job add … file --type RINGTONE URL --type LOGO URL --delete old.wav:RINGTONE` queues it, and the service shows it (masked).
    const items = [
      { name: 'file-https-base-url', index: 1, value: `https://u:${MASK}@files.example/ring%20one.wav?token=${MASK}` }, { name: 'file-type', index: 1, value: 'RINGTONE' }, { name: 'file-action', index: 1, value: 'deploy' },
      { name: 'file-https-base-url', index: 2, value: 'https://files.example/logo.png' }, { name: 'file-name', index: 2, value: 'company.png' }, { name: 'file-type', index: 2, value: 'LOGO' }, { name: 'file-action', index: 2, value: 'deploy' },
      { name: 'file-name', index: 3, value: 'old.wav' }, { name: 'file-type', index: 3, value: 'RINGTONE' }, { name: 'file-action', index: 3, value: 'delete' },
    ];
    const job: Job = {
      id: 1, mac: '00:1A:E8:00:00:01', kind: 'FileDeployment', items, expect: null, state: 'queued',
      attempts: 0, unanswered: 0, partsDone: 0, created: 0, updated: 0, sent: null, finished: null, results: [], error: null, source: 'cli', rolloutAt: 0,
    } as Job;
    const line = jobWords(i18next.getFixedT('en', 'jobs')).jobSummary(job);
    expect(line).toBe('ring one.wav (RINGTONE), company.png (LOGO), old.wav (RINGTONE)');
    expect(line).not.toMatch(/token|%20|•/);
  });
});

describe('the jobs view: what a job of the secure-mode bootstrap does', () => {
  const job = (kind: Job['kind'], source: string, items: Job['items']): Job =>
    ({ id: 2, mac: '00:1A:E8:00:00:02', kind, items, expect: null, state: 'sent', attempts: 1, unanswered: 0, partsDone: 0, created: 0, updated: 0, sent: 0, finished: null, results: [], error: null, source, rolloutAt: 0 }) as Job;
  it('a renewal and an undo say so, in English and German; a bootstrap says how (helper-77: all read "to Secure Mode")', async () => {
    await loadAllNamespaces();
    const certificate = [{ name: 'goto-secure-mode', value: 'nopin' }, { name: 'dls-client-certificate', value: MASK }];
    const cases: [Job, string, string][] = [
      [job('Bootstrap', 'bootstrap:renew', certificate), 'a new client certificate, over the secure channel', 'neues Client-Zertifikat, über den sicheren Kanal'],
      [job('FactoryReset', 'bootstrap:undo', []), 'back to Default Mode (bootstrap undone)', 'zurück in den Default Mode (Bootstrap rückgängig gemacht)'],
      [job('Bootstrap', 'bootstrap:nopin', certificate), 'to Secure Mode, no PIN', 'in den Secure Mode, ohne PIN'],
      [job('FactoryReset', 'cli', []), '', ''],
    ];
    for (const [j, en, de] of cases) {
      expect(jobWords(i18next.getFixedT('en', 'jobs')).jobSummary(j), j.source ?? '').toBe(en);
      expect(jobWords(i18next.getFixedT('de', 'jobs')).jobSummary(j), j.source ?? '').toBe(de);
    }
  });
});
