// The deep-network views end to end: examples/two-layer.jacobian.json (LSTM → GRU) run from its CodeLens, and
// the panel's store-driven views — the depth × time grid of ρ, the gradient-propagation curve with its rate and
// the Lyapunov spectrum with its convergence — drawn, with their messages, and a screenshot (test-results/).
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { clickCodeLens, findWebviewFrame, openFile } from './codeServer';

export const TWO_LAYER = 'examples/two-layer.jacobian.json';

/** What e2e.ts lends this file: its runner, its assertion and its polling. */
export interface E2eKit {
  page: Page;
  resultsDir: string;
  runTimeoutMs: number;
  test(title: string, body: () => Promise<void>): Promise<boolean>;
  expect(condition: unknown, message: string): void;
  poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs?: number): Promise<T>;
}

async function viewText(frame: Frame, testid: string): Promise<string> {
  return (await frame.textContent(`[data-testid="${testid}-message"]`))?.trim() ?? '';
}

export async function deepNetworkViews(kit: E2eKit): Promise<void> {
  const { page, expect, poll } = kit;
  await kit.test('a two-layer network: the panel shows the depth × time grid of ρ, the gradient curve with its rate and the Lyapunov spectrum', async () => {
    await openFile(page, TWO_LAYER);
    await clickCodeLens(page, /Analyze RNN Jacobian/, 60_000, true);
    const frame = await poll('the two-layer result in the panel', async () => {
      const f = await findWebviewFrame(page, '[data-testid="depth-time"]', 5_000);
      const layers = (await f.textContent('.meta'))?.includes('l0 lstm(32) → l1 gru(24)');
      return layers && (await f.locator('[data-testid="depth-time"]').isVisible()) ? f : undefined;
    }, kit.runTimeoutMs, 500);
    const grid = await viewText(frame, 'depth-time');
    expect(/upper triangle: ∂l\.h@t\/∂l\.h@t−1/.test(grid), `the grid's message: "${grid}"`);
    const size = await frame.$eval('[data-testid="depth-time"] canvas', (c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height]);
    expect(size[0] > 40 * 20 && size[1] > 2 * 20, `the grid canvas is ${size.join('×')}: not 2 layers × 40 steps`);
    // The first pair, l0.h@t wrt l0.h@t-1, is a state transition with both series.
    const gradient = await viewText(frame, 'gradient');
    expect(/^rate -?\d/.test(gradient), `the gradient view's message: "${gradient}"`);
    const lyapunov = await viewText(frame, 'lyapunov');
    expect(/16 of 32 exponents · 35 steps after a transient of 5/.test(lyapunov), `the Lyapunov view's message: "${lyapunov}"`);
    expect(/Newman/.test(lyapunov), `the Lyapunov view names Newman's overlay: "${lyapunov}"`);
    for (const id of ['gradient', 'lyapunov', 'lyapunov-convergence']) {
      const drawn = await frame.$eval(`[data-testid="${id}"] canvas`, (c) => (c as HTMLCanvasElement).toDataURL().length);
      expect(drawn > 5000, `the ${id} chart looks empty (${drawn} bytes of PNG)`);
    }
    await (await frame.$('[data-testid="deep-views"]'))!.screenshot({ path: join(kit.resultsDir, 'panel-two-layer.png') });
  });
}
