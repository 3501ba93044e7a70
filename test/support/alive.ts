/** Whether a process with this pid exists (EPERM: it does, owned by another user). For the global setups' stale-folder sweeps. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
