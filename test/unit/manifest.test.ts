// The Marketplace face of package.json: the walkthrough's links, images and completion events point at things that
// exist (a command the extension registers, a context key it sets, a PNG in media/), every contributed command is
// registered, and the README starts with its two commands and then a screenshot that is there.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './helpers/repo';

interface Step {
  id: string;
  description: string;
  media: { image: string; altText: string };
  completionEvents: string[];
}
interface Manifest {
  categories: string[];
  keywords: string[];
  repository: { url: string };
  bugs: { url: string };
  homepage: string;
  contributes: {
    commands: { command: string }[];
    menus: Record<string, { command: string; when?: string }[]>;
    walkthroughs: { id: string; steps: Step[] }[];
  };
}

const root = repoRoot();
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
const extensionSource = readdirSync(join(root, 'src', 'extension'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => readFileSync(join(root, 'src', 'extension', f), 'utf8'))
  .join('\n');
const contributed = new Set(manifest.contributes.commands.map((c) => c.command));
const registered = (id: string) => extensionSource.includes(`registerCommand('${id}'`);

describe('package.json: walkthrough, commands and Marketplace fields', () => {
  const steps = manifest.contributes.walkthroughs[0].steps;

  it('every contributed command is registered by the extension', () => {
    const missing = [...contributed].filter((id) => !registered(id));
    assert.deepEqual(missing, []);
  });
  it('every command a walkthrough step links to or completes on is contributed', () => {
    for (const step of steps) {
      const links = [...step.description.matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1]);
      assert.ok(links.length > 0, `step ${step.id} has no button`);
      const events = step.completionEvents.filter((e) => e.startsWith('onCommand:')).map((e) => e.slice('onCommand:'.length));
      for (const id of [...links, ...events]) assert.ok(contributed.has(id), `step ${step.id}: ${id} is not a contributed command`);
    }
  });
  it('every context key a step completes on is set by the extension', () => {
    for (const step of steps) {
      for (const key of step.completionEvents.filter((e) => e.startsWith('onContext:')).map((e) => e.slice('onContext:'.length))) {
        assert.ok(extensionSource.includes(`'${key}'`), `step ${step.id}: context key ${key} is never set`);
      }
    }
  });
  it('every step shows a small PNG from media/ with alt text', () => {
    for (const step of steps) {
      const file = join(root, step.media.image);
      assert.ok(step.media.image.startsWith('media/') && existsSync(file), `step ${step.id}: ${step.media.image} is missing`);
      assert.equal(readFileSync(file).subarray(1, 4).toString('latin1'), 'PNG', `${step.media.image} is not a PNG`);
      assert.ok(statSync(file).size < 250_000, `${step.media.image} is ${statSync(file).size} bytes`);
      assert.ok(step.media.altText.length > 20, `step ${step.id} has no real alt text`);
    }
  });
  it('New Jacobian Config… is on the explorer\'s context menu of a folder', () => {
    const entry = manifest.contributes.menus['explorer/context'].find((m) => m.command === 'rnnJacobian.newConfig');
    assert.equal(entry?.when, 'explorerResourceIsFolder');
  });
  it('names its categories, keywords, repository, bugs and homepage', () => {
    assert.deepEqual(manifest.categories, ['Data Science', 'Machine Learning', 'Visualization']);
    assert.ok(manifest.keywords.length >= 5 && manifest.keywords.length <= 30, `${manifest.keywords.length} keywords`);
    for (const url of [manifest.repository.url, manifest.bugs.url, manifest.homepage]) assert.match(url, /^https:\/\//);
  });
  it('the README starts with its two commands, then a screenshot that is in media/', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8').split('\n');
    assert.equal(readme[2], '```bash');
    assert.ok(readme[3].startsWith('npm ci && npm run analyze -- examples/seed-relu.jacobian.json'), readme[3]);
    assert.ok(readme[4].startsWith('bash scripts/setup.sh && npm test'), readme[4]);
    const image = /^!\[[^\]]+\]\((media\/[^)]+\.png)\)$/.exec(readme[7]);
    assert.ok(image && existsSync(join(root, image[1])), `line 8 of the README is not a screenshot from media/: ${readme[7]}`);
  });
});
