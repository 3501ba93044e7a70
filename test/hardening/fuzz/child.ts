/**
 * A fuzz worker process (forked by scripts/fuzz.ts with --import tsx --expose-gc): runs its share
 * of parser cases, or the socket cases plus the phones that must keep being served, and reports
 * progress, failures and memory over IPC.
 */
import { buildCorpus } from './corpus';
import { CaseMaker } from './mutate';
import { memoryNow, runParserCases, runSocketCases, servePhonesUntil, type Failure, type PhonesSummary, type Progress } from './runner';

export type ChildTask =
  | { mode: 'parser'; seed: number; from: number; to: number; stride: number; maxBytes: number }
  | { mode: 'socket'; seed: number; from: number; to: number; port: number; concurrency: number; phones: number; timeoutMs: number; maxBodyBytes: number };

export type ChildMessage =
  | { type: 'progress'; progress: Progress; heapMB: number }
  | { type: 'failure'; failure: Failure }
  | { type: 'memory'; baselineHeapMB: number; endHeapMB: number }
  | { type: 'phones'; summary: PhonesSummary }
  | { type: 'done'; progress: Progress }
  | { type: 'error'; message: string };

const send = (m: ChildMessage): void => {
  process.send?.(m);
};

const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;

async function run(task: ChildTask): Promise<void> {
  const maker = new CaseMaker(buildCorpus(), task.seed, task.mode === 'socket' ? { http: true, maxBytes: task.maxBodyBytes + 16 * 1024 } : { maxBytes: task.maxBytes });
  if (task.mode === 'parser') {
    // Warm up (JIT, corpus), then measure: the parser keeps nothing between cases.
    const warm = Math.min(task.to, task.from + task.stride * 5000);
    const p1 = runParserCases(maker, { from: task.from, to: warm, stride: task.stride }, (failure) => send({ type: 'failure', failure }));
    const baseline = memoryNow();
    let last = 0;
    const p2 = runParserCases(maker, { from: warm, to: task.to, stride: task.stride }, (failure) => send({ type: 'failure', failure }), (p) => {
      const now = Date.now();
      if (now - last < 1000) return;
      last = now;
      send({ type: 'progress', progress: { done: p1.done + p.done, failed: p1.failed + p.failed }, heapMB: mb(process.memoryUsage().heapUsed) });
    });
    const end = memoryNow();
    send({ type: 'memory', baselineHeapMB: mb(baseline.heapUsed), endHeapMB: mb(end.heapUsed) });
    send({ type: 'done', progress: { done: p1.done + p2.done, failed: p1.failed + p2.failed } });
    return;
  }
  let finished = false;
  const phones = servePhonesUntil(`https://127.0.0.1:${task.port}`, task.phones, () => finished);
  let last = 0;
  const progress = await runSocketCases({
    port: task.port,
    maker,
    from: task.from,
    to: task.to,
    concurrency: task.concurrency,
    maxBodyBytes: task.maxBodyBytes,
    timeoutMs: task.timeoutMs,
    onFailure: (failure) => send({ type: 'failure', failure }),
    onProgress: (p) => {
      const now = Date.now();
      if (now - last < 1000) return;
      last = now;
      send({ type: 'progress', progress: p, heapMB: mb(process.memoryUsage().heapUsed) });
    },
  }).finally(() => {
    finished = true;
  });
  send({ type: 'phones', summary: await phones });
  send({ type: 'done', progress: { done: progress.done, failed: progress.failed } });
}

process.once('message', (task: ChildTask) => {
  run(task)
    .catch((err: unknown) => send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }))
    .finally(() => process.disconnect?.());
});
