// Process-table helpers for the tests that watch engine processes (unit, host suite).
import { spawnSync } from 'node:child_process';

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Engine processes (engineWorker.js) whose parent is `parentPid` (default: this process). */
export function engineChildren(parentPid = process.pid): number[] {
  const result = spawnSync('pgrep', ['-P', String(parentPid), '-f', 'engineWorker\\.js'], { encoding: 'utf8' });
  if (result.error) throw new Error(`pgrep could not run: ${result.error.message}`);
  return result.stdout.split('\n').filter(Boolean).map(Number);
}
