// Whole spectra on demand, end to end: the seed example lists neither singularValues nor eigenvalues, so the
// panel asks the extension for the spectrum of the matrix on screen; selecting another step asks again and the
// singular-value and eigenvalue charts redraw with that step's numbers.
import type { Frame } from 'playwright-core';
import { findWebviewFrame } from './codeServer';
import type { E2eKit } from './deepNetwork';

/** `pair/step/b state σ1=…`, which the panel writes on the σ chart for each selection it shows. */
const LABEL = /^0\/(\d+)\/0 ready σ1=(\S+)/;

async function chartPngs(frame: Frame): Promise<string[]> {
  return Promise.all(['singular-chart', 'eigen-chart'].map((id) =>
    frame.$eval(`[data-testid="${id}"] canvas`, (c) => (c as HTMLCanvasElement).toDataURL())));
}

export async function spectrumOnDemand(kit: E2eKit): Promise<void> {
  const { page, expect, poll } = kit;
  await kit.test('spectra on demand: selecting another step in the panel redraws σ and λ for a config that lists neither', async () => {
    const frame = await findWebviewFrame(page, '[data-testid="singular-chart"][data-spectrum]', 30_000);
    const ready = (step?: number) => poll(`the on-demand spectrum${step === undefined ? '' : ` of step ${step}`}`, async () => {
      const match = LABEL.exec((await frame.getAttribute('[data-testid="singular-chart"]', 'data-spectrum')) ?? '');
      return match && (step === undefined || Number(match[1]) === step) ? { step: Number(match[1]), sigma1: Number(match[2]) } : undefined;
    }, kit.runTimeoutMs, 50);
    const before = await ready();
    const title = (await frame.textContent('[data-testid="singular-chart"]')) ?? '';
    const placeholders = await frame.$$eval('.chart-placeholder:not([hidden])', (els) => els.map((e) => e.textContent ?? ''));
    expect(!placeholders.some((t) => /Add "(singularValues|eigenvalues)"/.test(t)), `placeholders still shown: ${JSON.stringify(placeholders)} ${title}`);
    const pngsBefore = await chartPngs(frame);
    const next = before.step === 0 ? 1 : before.step - 1;
    const t0 = Date.now();
    await frame.click(`vscode-button[title="${next > before.step ? 'Next step' : 'Previous step'}"]`);
    const after = await ready(next);
    console.log(`      spectrum of step ${next} on screen ${Date.now() - t0} ms after the click`);
    expect(after.sigma1 !== before.sigma1, `σ1 did not change between steps ${before.step} and ${next}: ${after.sigma1}`);
    await frame.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
    const pngsAfter = await chartPngs(frame);
    expect(pngsAfter[0] !== pngsBefore[0], 'the singular-value chart did not redraw');
    expect(pngsAfter[1] !== pngsBefore[1], 'the eigenvalue chart did not redraw');
    expect(pngsAfter.every((p) => p.length > 3000), `a spectrum chart looks empty (${pngsAfter.map((p) => p.length).join(', ')} bytes of PNG)`);
  });
}
