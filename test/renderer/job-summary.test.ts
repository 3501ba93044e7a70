/**
 * A file deployment's row in the jobs view names each file once, as the phone stores it and as the
 * CLI names it (helper-73: the row split URLs itself, undecoded, with the masked query, twice for
 * an index with both a file-name and a URL).
 */
import { describe, expect, it } from 'vitest';
import { buildJob } from '../../src/main/commands/job-spec';
import { maskJob } from '../../src/main/commands';
import { jobWords } from '../../src/renderer/src/lib/jobs';
import { i18next, loadAllNamespaces } from '../../src/renderer/src/i18n';
import type { Job } from '../../src/shared/model';

describe('the jobs view: a file deployment in one line', () => {
  it('each file once, its name decoded, without its query or password, with its type', async () => {
    await loadAllNamespaces();
    const built = buildJob({ kind: 'file', urls: ['https://u:S3cret@files.example/ring%20one.wav?token=abc', 'https://files.example/logo.png'], fileTypes: ['RINGTONE', 'LOGO'], deletes: [{ name: 'old.wav', type: 'RINGTONE' }] });
    const job: Job = {
      id: 1, mac: '00:1A:E8:00:00:01', kind: 'FileDeployment', items: [...built.items, { name: 'file-name', index: 2, value: 'company.png' }], expect: null, state: 'queued',
      attempts: 0, unanswered: 0, partsDone: 0, created: 0, updated: 0, sent: null, finished: null, results: [], error: null, source: 'cli', rolloutAt: 0,
    } as Job;
    const line = jobWords(i18next.getFixedT('en', 'jobs')).jobSummary(maskJob(job));
    expect(line).toBe('ring one.wav (RINGTONE), company.png (LOGO), old.wav (RINGTONE)');
    expect(line).not.toMatch(/S3cret|token|%20/);
  });
});
