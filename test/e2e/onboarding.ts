// The first run, as a new user meets it, end to end in code-server against the packaged VSIX: a fresh profile
// (user-data and extensions dirs), an EMPTY folder, no tfjs-node (so the wasm backend the VSIX carries), and no
// README. From "Welcome: Open Walkthrough…": step 1 writes and opens the seed example, step 2 analyzes it (the
// panel shows var·fan_in ≈ 0.5), the status bar item shows its headline, activation linear + save gives ≈ 1.0,
// and the last step's "New Jacobian Config…" makes an LSTM config that runs into the panel. Then every other
// template is created with "New Jacobian Config…" from the palette and runs clean (a trained model copied into
// the folder for "From a trained model…").
//
// The screenshots it takes are the walkthrough's images and the README's: with RNN_JACOBIAN_WRITE_MEDIA=1 they
// are also written into media/ (`RNN_JACOBIAN_WRITE_MEDIA=1 node dist/test/e2e/e2e.js --onboarding-only`).
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Locator, Page } from 'playwright-core';
import {
  acceptFileDialog,
  editorTypeAndSave,
  findWebviewFrame,
  focusWorkbench,
  launchVsCode,
  makeTempDir,
  pickQuickItem,
  problemCounts,
  runCommand,
  waitForCodeLens,
  type VsCodeSession,
} from './codeServer';

/** What e2e.ts lends: its runner, its polling and its view of the panel's table. */
export interface E2eKit {
  repoRoot: string;
  vsix: string;
  resultsDir: string;
  runTimeoutMs: number;
  test(title: string, body: () => Promise<void>): Promise<boolean>;
  fail(title: string, error: string): void;
  expect(condition: unknown, message: string): asserts condition;
  poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs?: number): Promise<T>;
  varTimesFanInColumn(frame: Frame): Promise<number[]>;
  engineProcesses(extensionsDir: string): number[];
}

const WALKTHROUGH_TITLE = 'Get Started with RNN Jacobian Lab';
const PALETTE_NEW_CONFIG = 'RNN Jacobian Lab: New Jacobian Config…';

export async function onboardingSession(kit: E2eKit): Promise<void> {
  console.log('\n  first run: a new user, an empty folder, the walkthrough, New Jacobian Config…');
  const { poll } = kit;
  let window: Page | undefined;
  let failures = 0;
  // A failing step leaves a screenshot of the window beside the others, to see what the user would have seen.
  const test = (title: string, body: () => Promise<void>) =>
    kit.test(title, async () => {
      try {
        await body();
      } catch (error) {
        await window?.screenshot({ path: join(shots, `failure-${++failures}.png`) }).catch(() => undefined);
        throw error;
      }
    });
  const expect: E2eKit['expect'] = kit.expect;
  const workspace = makeTempDir('jl-e2e-empty-');
  const shots = join(kit.resultsDir, 'onboarding');
  mkdirSync(shots, { recursive: true });
  let session: VsCodeSession | undefined;
  try {
    session = await launchVsCode({ vsixPath: kit.vsix, workspaceDir: workspace });
    const { page } = session;
    window = page;
    const shot = (name: string, target: Shot = page) => screenshotFor(kit, page, target, name, shots);

    /** The panel's file, state and step column once it shows a finished run of `file` with `rows` steps. */
    const panelResult = async (file: string, rows: number): Promise<number[]> => {
      let seen = '';
      try {
        return await poll(`the panel to show ${file}`, async () => {
          const frame = await findWebviewFrame(page, '[data-testid="status"]', 5_000);
          const title = (await frame.textContent('h1.title'))?.trim() ?? '';
          const state = await frame.getAttribute('[data-testid="status"]', 'data-state');
          const column = await kit.varTimesFanInColumn(frame);
          seen = `title "${title}", state ${state}, ${column.length} rows ${JSON.stringify(column)}`;
          if (state === 'failed' || state === 'invalid') throw new Error(`the panel says ${state}: ${(await frame.textContent('[data-testid="status"]')) ?? ''}`);
          return title.includes(file) && state === 'done' && column.length === rows ? column : undefined;
        }, kit.runTimeoutMs, 250);
      } catch (error) {
        throw new Error(`${(error as Error).message}; the panel showed ${seen}`);
      }
    };

    const walkthrough = page.locator('.gettingStartedContainer');
    const step = (title: string) => walkthrough.locator('.getting-started-step').filter({ hasText: title }).first();
    const stepButton = async (stepTitle: string, button: string) => {
      await page.locator('.tabs-container .tab', { hasText: 'Walkthrough: RNN Jacobian Lab' }).first().click();
      await step(stepTitle).locator('.step-title').first().click();
      await step(stepTitle).getByRole('button', { name: button }).first().click();
    };

    const opened = await test('Welcome: Open Walkthrough… lists "Get Started with RNN Jacobian Lab" and opens it on its five steps', async () => {
      // The command opens a second quick pick (of walkthroughs) in the same widget: wait for its empty input.
      await focusWorkbench(page);
      await page.keyboard.press('F1');
      await pickQuickItem(page, 'Welcome: Open Walkthrough...', '>Welcome: Open Walkthrough...', 30_000, false);
      const input = page.locator('.quick-input-widget input');
      await poll('the walkthrough picker', async () => ((await input.inputValue()) === '' ? true : undefined), 30_000);
      await pickQuickItem(page, WALKTHROUGH_TITLE, 'RNN Jacobian');
      await walkthrough.waitFor({ state: 'visible' });
      const titles = await walkthrough.locator('.getting-started-step .step-title').allInnerTexts();
      expect(titles.length === 5, `the walkthrough shows ${titles.length} steps: ${JSON.stringify(titles)}`);
      // The step's image is the screenshot from media/, loaded (a missing file has naturalWidth 0).
      const image = walkthrough.locator('img[alt^="The seed example"]').first();
      await image.waitFor();
      await poll('the step image to load', async () => ((await image.evaluate((img) => (img as HTMLImageElement).naturalWidth)) > 0 ? true : undefined), 30_000);
      await page.screenshot({ path: join(shots, 'walkthrough.png') });
    });
    if (!opened) return;

    const seedFile = join(workspace, 'seed-relu.jacobian.json');
    await test('step 1 "Open the Seed Example" writes seed-relu.jacobian.json into the empty folder and opens it', async () => {
      await stepButton('Open the seed example', 'Open the Seed Example');
      await page.locator('.tabs-container .tab.active .label-name', { hasText: 'seed-relu.jacobian.json' }).first().waitFor();
      expect(existsSync(seedFile), `${seedFile} was not written`);
      const config = JSON.parse(readFileSync(seedFile, 'utf8')) as Record<string, unknown>;
      expect(config.cell === 'seed' && config.activation === 'relu', `the seed example holds ${JSON.stringify(config)}`);
      const schema = join(workspace, String(config.$schema));
      expect(existsSync(schema), `its $schema ${String(config.$schema)} does not resolve (${schema})`);
      await waitForCodeLens(page, /Analyze RNN Jacobian/, 60_000);
      // The walkthrough shows its images about 450 px wide: the top left of the editor, where the text stays legible.
      await shot('seed-config', { clip: await cropOf([page.locator('.part.editor')], 640, 600) });
    });

    const analyzed = await test('step 2 "Analyze the Seed Example" opens the panel with var·fan_in 0.5 ± 0.1 per step, on wasm', async () => {
      await stepButton('Run Analyze RNN Jacobian', 'Analyze the Seed Example');
      const column = await panelResult('seed-relu.jacobian.json', 4);
      expect(column.every((v) => Math.abs(v - 0.5) <= 0.1), `var·fan_in per step ${JSON.stringify(column)}`);
      const frame = await findWebviewFrame(page, '[data-testid="backend"]');
      expect(/wasm/.test((await frame.textContent('[data-testid="backend"]')) ?? ''), 'a new user without tfjs-node computes on wasm');
      await runCommand(page, 'View: Toggle Primary Side Bar Visibility');
      await waitForCodeLens(page, /Analyze RNN Jacobian/, 30_000);
      await tall(page, 1250, async () => {
        await settle(frame);
        await shot('../screenshot');
        await shot('analyze', { clip: await cropOf([panelGroup(page).locator('.title').first(), frame.locator('article.heatmap-card')]) });
      });
    });

    const statusItem = page.locator('.part.statusbar .statusbar-item').filter({ hasText: /var·fan_in|RNN Jacobian/ }).first();
    if (analyzed) {
      await test('the status bar item shows ρ and var·fan_in of the first pair, equal to the panel\'s, and opens the panel', async () => {
        await page.locator('.tabs-container .tab', { hasText: 'seed-relu.jacobian.json' }).first().click();
        const frame = await findWebviewFrame(page, '[data-testid="step-row"]');
        const column = await kit.varTimesFanInColumn(frame);
        const text = await poll('the status bar headline', async () => {
          const t = (await statusItem.innerText()).replace(/\s+/g, ' ').trim();
          return /ρ \d/.test(t) ? t : undefined;
        }, 30_000);
        const shown = Number(/var·fan_in (\d+\.\d+)/.exec(text)?.[1]);
        const mean = column.reduce((s, v) => s + v, 0) / column.length;
        expect(Math.abs(shown - mean) <= 0.006, `the status bar says "${text}"; the panel's mean var·fan_in is ${mean}`);
        await statusItem.click();
        await page.locator('.tabs-container .tab.active', { hasText: /RNN Jacobian Lab: seed-relu/ }).first().waitFor();
        await tall(page, 1700, async () => {
          await settle(frame);
          await shot('panel', { clip: await cropOf([frame.locator('article.chart-card').nth(0), frame.locator('article.chart-card').nth(1)]) });
        });
      });

      await test('step 4: activation linear + save reruns it: ≈ 1.0 in the panel, and the status bar follows', async () => {
        await page.locator('.tabs-container .tab', { hasText: 'seed-relu.jacobian.json' }).first().click();
        const text = readFileSync(seedFile, 'utf8');
        await editorTypeAndSave(page, text.replace('"activation": "relu"', '"activation": "linear"'), seedFile);
        const column = await kit.poll('the linear seed', async () => {
          const values = await panelResult('seed-relu.jacobian.json', 4);
          return values.every((v) => Math.abs(v - 1.0) <= 0.15) ? values : undefined;
        }, kit.runTimeoutMs, 250);
        expect(column.length === 4, 'four steps');
        await poll('the status bar to say ≈ 1', async () => (/var·fan_in (0\.9|1\.0|1\.1)/.test(await statusItem.innerText()) ? true : undefined), 30_000);
        await tall(page, 1250, async () => {
          const linear = await findWebviewFrame(page, '[data-testid="step-row"]');
          await settle(linear);
          await shot('linear', { clip: await cropOf([linear.locator('article.chart-card').nth(0), linear.locator('article.chart-card').nth(1)]) });
        });
        await page.locator('.tabs-container .tab', { hasText: 'Walkthrough: RNN Jacobian Lab' }).first().click();
        await poll('step 4 to be checked off', async () =>
          (await step('Change the activation and save').locator('.codicon-getting-started-step-checked, .codicon-pass-filled').count()) > 0 || undefined, 30_000);
      });
    }

    await test('the last step\'s "New Jacobian Config…" → LSTM → lstm.jacobian.json opens, "Analyze" shows it in the panel', async () => {
      const templates = page.locator('.quick-input-widget .monaco-list-row', { hasText: 'LSTM' }).first();
      await stepButton('Write a config for your own network', 'New Jacobian Config…');
      await templates.waitFor();
      await shot('new-config', page.locator('.quick-input-widget'));
      // The walkthrough page takes the focus back as it checks the step off (and a screenshot may take it too): the
      // pick stays open (ignoreFocusOut), so the user, and this test, can still choose.
      await pickQuickItem(page, 'LSTM', 'LSTM', 30_000, false);
      await acceptFileDialog(page, 'lstm.jacobian.json');
      await runNewConfig(kit, page, workspace, 'lstm.jacobian.json', panelResult);
    });

    const models = join(workspace, 'models', 'lstm');
    cpSync(join(kit.repoRoot, 'test', 'fixtures', 'models', 'lstm'), models, { recursive: true });
    const others: [label: string, file: string, pick?: string][] = [
      ['Seed cell', 'seed-relu-2.jacobian.json'],
      ['GRU', 'gru.jacobian.json'],
      ['SimpleRNN', 'simple_rnn.jacobian.json'],
      ['Cell written as equations', 'gated-equations.jacobian.json'],
      ['From a trained model…', 'lstm-trained.jacobian.json', 'models/lstm/model.json'],
    ];
    for (const [label, file, pick] of others) {
      await test(`${PALETTE_NEW_CONFIG} → ${label} writes ${file}, which runs clean`, async () => {
        // The palette and the command's quick pick share one widget, which may never close in between.
        await focusWorkbench(page);
        await page.keyboard.press('F1');
        await pickQuickItem(page, PALETTE_NEW_CONFIG, `>${PALETTE_NEW_CONFIG}`, 30_000, false);
        await page.locator('.quick-input-widget input[placeholder="Pick a cell to start from"]').waitFor();
        await pickQuickItem(page, label, label, 30_000, false);
        if (pick) await pickQuickItem(page, pick, pick, 30_000, false);
        await acceptFileDialog(page, file);
        await runNewConfig(kit, page, workspace, file, panelResult);
        if (pick) {
          const config = JSON.parse(readFileSync(join(workspace, file), 'utf8')) as { cell: string; units: number; inputDim: number; weights: { model: string; layer: string } };
          expect(config.cell === 'lstm' && config.units === 4 && config.inputDim === 3 && config.weights.layer === 'lstm' && config.weights.model === './models/lstm/model.json',
            `the trained-model config says ${JSON.stringify(config)}`);
        }
      });
    }
    const written = readdirSync(workspace).filter((f) => f.endsWith('.jacobian.json')).sort();
    console.log(`      (the folder now holds ${written.join(', ')})`);
  } catch (error) {
    kit.fail('first-run session', error instanceof Error ? (error.stack ?? error.message) : String(error));
  } finally {
    const extensionsDir = session?.extensionsDir;
    await session?.dispose();
    if (extensionsDir) {
      const left = kit.engineProcesses(extensionsDir);
      if (left.length) kit.fail('no engine process outlives the first-run window', `left: ${left.join(', ')}`);
    }
    rmSync(workspace, { recursive: true, force: true });
  }
}

/** After New Jacobian Config… wrote `file`: it is open, "Analyze" in the notification runs it, it runs clean. */
async function runNewConfig(kit: E2eKit, page: Page, workspace: string, file: string, panelResult: (file: string, rows: number) => Promise<number[]>): Promise<void> {
  await page.locator('.tabs-container .tab.active .label-name', { hasText: file }).first().waitFor();
  const config = JSON.parse(readFileSync(join(workspace, file), 'utf8')) as { $schema: string; timeSteps: number };
  kit.expect(existsSync(join(workspace, config.$schema)), `${file}: its $schema ${config.$schema} does not resolve`);
  const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: `created ${file}` }).first();
  await toast.locator('.monaco-button', { hasText: /^Analyze$/ }).first().click();
  const column = await panelResult(file, config.timeSteps);
  kit.expect(column.every(Number.isFinite), `${file}: var·fan_in per step ${JSON.stringify(column)}`);
  // No warning either: a $schema that does not resolve would be one ("Unable to load schema").
  const { errors, warnings } = await problemCounts(page);
  kit.expect(errors === 0 && warnings === 0, `${file}: the Problems panel counts ${errors} errors and ${warnings} warnings`);
}

/** The editor group that shows the panel. */
function panelGroup(page: Page): Locator {
  return page.locator('.editor-group-container').filter({ has: page.locator('.tab.active', { hasText: /RNN Jacobian Lab:/ }) }).first();
}

/** Runs `body` in a window `height` pixels tall (so the panel shows its charts below the heatmap), then 900 again. */
async function tall(page: Page, height: number, body: () => Promise<void>): Promise<void> {
  await page.setViewportSize({ width: 1400, height });
  try {
    await body();
  } finally {
    await page.setViewportSize({ width: 1400, height: 900 });
  }
}

/** Two animation frames: the charts have painted. */
async function settle(frame: Frame): Promise<void> {
  await frame.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
}

type Box = { x: number; y: number; width: number; height: number };
/** The whole window, an element, or a region of the window. */
type Shot = Page | Locator | { clip: Box };

/**
 * The box around `parts` (elements of the page or of a webview: their boxes are in window coordinates), cut to
 * `maxWidth` × `maxHeight` from its top left.
 */
async function cropOf(parts: Locator[], maxWidth = Infinity, maxHeight = Infinity): Promise<Box> {
  const boxes = await Promise.all(parts.map(async (part) => {
    const box = await part.first().boundingBox();
    if (!box) throw new Error(`${part.toString()} is not on the screen`);
    return box;
  }));
  const x = Math.min(...boxes.map((b) => b.x));
  const y = Math.min(...boxes.map((b) => b.y));
  const width = Math.min(maxWidth, Math.max(...boxes.map((b) => b.x + b.width)) - x);
  const height = Math.min(maxHeight, Math.max(...boxes.map((b) => b.y + b.height)) - y);
  return { x, y, width, height };
}

/**
 * A PNG into test-results/onboarding/, and into media/walkthrough/ when RNN_JACOBIAN_WRITE_MEDIA=1 (the README's
 * screenshot is `../screenshot`, i.e. media/screenshot.png).
 */
async function screenshotFor(kit: E2eKit, page: Page, target: Shot, name: string, dir: string): Promise<void> {
  const file = join(dir, `${name}.png`);
  if ('clip' in target) await page.screenshot({ path: file, clip: target.clip });
  else await target.screenshot({ path: file });
  if (process.env.RNN_JACOBIAN_WRITE_MEDIA === '1') {
    const media = join(kit.repoRoot, 'media', 'walkthrough');
    mkdirSync(media, { recursive: true });
    cpSync(file, join(media, `${name}.png`));
  }
}
