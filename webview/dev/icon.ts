// Dev-only: draws media/icon.png (128×128, the marketplace and panel-tab icon) in Chromium, from the
// panel's own colour map: a small Jacobian heatmap under a lens.
//
//   npx esbuild webview/dev/icon.ts --bundle --platform=node --format=cjs \
//       --external:playwright-core --outfile=test-results/icon.cjs && node test-results/icon.cjs
import * as fs from 'node:fs';
import * as path from 'node:path';
import { divergingColor } from '../colormap';

const N = 7;

/** A fixed "Jacobian": strong diagonal, a weaker sub-diagonal, small signed noise elsewhere. */
function cells(): string[] {
  const out: string[] = [];
  let seed = 7;
  const rnd = (): number => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      let v = (rnd() - 0.5) * 0.7;
      if (i === j) v = 0.85 + 0.15 * rnd();
      else if (i === j + 1) v = -0.6 - 0.3 * rnd();
      const [r, g, b] = divergingColor(v);
      out.push(`rgb(${r},${g},${b})`);
    }
  }
  return out;
}

async function main(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage();
  const dataUrl = await page.evaluate(({ colors, n }) => {
    const S = 128;
    const c = document.createElement('canvas');
    c.width = S;
    c.height = S;
    const ctx = c.getContext('2d')!;
    // Rounded tile.
    ctx.fillStyle = '#1b2330';
    ctx.beginPath();
    ctx.roundRect(4, 4, S - 8, S - 8, 22);
    ctx.fill();
    // Heatmap.
    const pad = 18;
    const cell = (S - 2 * pad) / n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        ctx.fillStyle = colors[i * n + j];
        ctx.fillRect(pad + j * cell + 0.5, pad + i * cell + 0.5, cell - 1, cell - 1);
      }
    }
    // Lens: a ring with a handle, slightly brightening what it covers.
    const cx = 56;
    const cy = 56;
    const r = 27;
    ctx.save();
    ctx.beginPath();
    ctx.arc(cx, cy, r, 0, 2 * Math.PI);
    ctx.fillStyle = 'rgba(255,255,255,0.16)';
    ctx.fill();
    ctx.restore();
    ctx.lineCap = 'round';
    ctx.strokeStyle = '#0b0f16';
    ctx.lineWidth = 13;
    ctx.beginPath();
    ctx.moveTo(cx + r * 0.72, cy + r * 0.72);
    ctx.lineTo(cx + r * 1.75, cy + r * 1.75);
    ctx.stroke();
    ctx.strokeStyle = '#f2f4f8';
    ctx.lineWidth = 8;
    ctx.beginPath();
    ctx.moveTo(cx + r * 0.74, cy + r * 0.74);
    ctx.lineTo(cx + r * 1.7, cy + r * 1.7);
    ctx.stroke();
    ctx.strokeStyle = '#0b0f16';
    ctx.lineWidth = 10;
    ctx.beginPath();
    ctx.arc(cx, cy, r, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.strokeStyle = '#f2f4f8';
    ctx.lineWidth = 6;
    ctx.beginPath();
    ctx.arc(cx, cy, r, 0, 2 * Math.PI);
    ctx.stroke();
    return c.toDataURL('image/png');
  }, { colors: cells(), n: N });
  await browser.close();
  const out = path.resolve(process.argv[2] ?? 'media/icon.png');
  fs.writeFileSync(out, Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));
  console.log(`wrote ${out}`);
}

void main();
