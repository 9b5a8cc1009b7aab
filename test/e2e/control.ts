// "Stabilize RNN (LSC)…" end to end: run from the Command Palette on examples/lsc-small-lstm.jacobian.json (an
// LSTM of 16 units, target ρ 0.5, a few seconds), the panel's control view gains points while the loop runs,
// ends with the before/after view (ρ after within the block's tolerance of the target, the original's and the new
// config's analyses drawn side by side), the new files are on disk, and the view's link opens the new config.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { findWebviewFrame, openFile, runCommand } from './codeServer';
import type { E2eKit } from './deepNetwork';

export const LSC_SMALL = 'examples/lsc-small-lstm.jacobian.json';

interface Sample {
  phase: string;
  points: number;
}

async function sample(frame: Frame): Promise<Sample | undefined> {
  const el = await frame.$('[data-testid="control"][data-phase]');
  if (!el) return undefined;
  return { phase: (await el.getAttribute('data-phase')) ?? '', points: Number(await el.getAttribute('data-points')) };
}

export async function stabilizeFromPalette(kit: E2eKit & { workspace: string }): Promise<void> {
  const { page, expect, poll } = kit;
  await kit.test('"Stabilize RNN (LSC)…" from the palette: a live curve, the before/after view (ρ after within tolerance) and the new files', async () => {
    await openFile(page, LSC_SMALL);
    await runCommand(page, 'RNN Jacobian Lab: Stabilize RNN (LSC)…');
    // While it runs: the number of points drawn, sampled every 50 ms, must grow several times.
    const seen: number[] = [];
    let frame: Frame | undefined;
    const final = await poll('the control run to end', async () => {
      frame = frame && !frame.isDetached() ? frame : await findWebviewFrame(page, '[data-testid="control"][data-phase]', 5_000);
      const s = await sample(frame);
      if (!s) return undefined;
      if (s.phase === 'running' && s.points > 0 && seen[seen.length - 1] !== s.points) seen.push(s.points);
      return s.phase === 'done' || s.phase === 'failed' || s.phase === 'invalid' ? s : undefined;
    }, kit.runTimeoutMs, 50);
    const message = (await frame!.textContent('[data-testid="control-live-message"]')) ?? '';
    expect(final.phase === 'done', `the run ended ${final.phase}: ${message}`);
    console.log(`      points seen while running: ${seen.join(', ')} of ${final.points}`);
    expect(seen.length >= 3 && seen.every((p, k) => k === 0 || p > seen[k - 1]), `the curve did not grow live: ${seen.join(', ')}`);
    const curve = await frame!.$eval('[data-testid="control-live"] canvas', (c) => (c as HTMLCanvasElement).toDataURL().length);
    expect(curve > 5000, `the live chart looks empty (${curve} bytes of PNG)`);

    const block = (JSON.parse(readFileSync(join(kit.workspace, LSC_SMALL), 'utf8')) as { stabilize: { target: number; tolerance: number } }).stabilize;
    const rows = await frame!.$$eval('[data-testid="control-row"]', (els) => els.map((e) => ({
      target: Number((e as HTMLElement).dataset.target), before: Number((e as HTMLElement).dataset.before), after: Number((e as HTMLElement).dataset.after),
    })));
    expect(rows.length === 1, `${rows.length} quantity rows`);
    const [row] = rows;
    expect(row.target === block.target && Math.abs(row.after - block.target) <= block.tolerance, `ρ after ${row.after}, target ${row.target} ± ${block.tolerance}`);
    expect(Math.abs(row.before - block.target) > block.tolerance, `ρ before ${row.before} was already at the target`);

    // The comparison: both sides analyzed and drawn.
    await frame!.locator('[data-testid="control-compare"]').waitFor({ state: 'visible', timeout: 60_000 });
    const meanRho = async (side: string) => Number(await frame!.getAttribute(`[data-testid="control-${side}-spectral"]`, 'data-mean-rho'));
    const [before, after] = [await meanRho('original'), await meanRho('new')];
    console.log(`      mean ρ per step: original ${before.toFixed(4)}, new ${after.toFixed(4)}`);
    expect(Math.abs(after - block.target) < Math.abs(before - block.target) && Math.abs(after - block.target) <= 0.1, `mean ρ ${before} → ${after}, target ${block.target}`);
    for (const id of ['control-original-eigen', 'control-new-eigen', 'control-original-gradient', 'control-new-gradient']) {
      const drawn = await frame!.$eval(`[data-testid="${id}"] canvas`, (c) => (c as HTMLCanvasElement).toDataURL().length);
      expect(drawn > 3000, `the ${id} chart looks empty (${drawn} bytes of PNG)`);
    }

    const out = join(kit.workspace, 'examples', 'lsc-small-lstm.stabilized');
    for (const f of ['weights.npz', 'manifest.json', 'lsc-small-lstm.stabilized.jacobian.json']) expect(existsSync(join(out, f)), `${f} is not in ${out}`);
    // The panel alone in a tall window, scrolled to the control view, for the screenshot (test-results/).
    await page.locator('.tabs-container .tab', { hasText: /RNN Jacobian Lab: lsc-small-lstm/ }).first().click();
    await runCommand(page, 'View: Toggle Maximize Editor Group');
    await page.setViewportSize({ width: 1400, height: 1700 });
    try {
      const view = await findWebviewFrame(page, '[data-testid="control"][data-phase="done"]', 30_000);
      await view.$eval('[data-testid="control"]', (el) => el.scrollIntoView({ block: 'start' }));
      await view.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
      await (await view.frameElement()).screenshot({ path: join(kit.resultsDir, 'panel-stabilize.png') });
      frame = view;
    } finally {
      await page.setViewportSize({ width: 1400, height: 900 });
      await runCommand(page, 'View: Toggle Maximize Editor Group');
    }
    await frame!.click('[data-testid="control-open-config"]');
    await page.locator('.tabs-container .tab .label-name', { hasText: 'lsc-small-lstm.stabilized.jacobian.json' }).first().waitFor({ state: 'visible', timeout: 30_000 });
  });
}
