// The files whose change reruns a config: data files it names, and a trained model with its shards.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { referencedDataFiles } from '../../src/extension/configLocations';
import { repoRoot } from './helpers/repo';

const root = repoRoot();

describe('referencedDataFiles', () => {
  it('lists a trained model.json and every weight shard its manifest names', () => {
    const config = join(root, 'examples/lstm-trained.jacobian.json');
    const files = referencedDataFiles(config, readFileSync(config, 'utf8'));
    const model = join(root, 'test/fixtures/models/lstm/model.json');
    const manifest = JSON.parse(readFileSync(model, 'utf8')).weightsManifest as { paths: string[] }[];
    const shards = manifest.flatMap((g) => g.paths.map((p) => join(root, 'test/fixtures/models/lstm', p)));
    assert.ok(shards.length >= 1);
    assert.deepEqual(files, [model, ...shards].sort());
  });

  it('lists .npy inputs relative to the config', () => {
    const files = referencedDataFiles('/w/a/b.jacobian.json', JSON.stringify({ inputs: { file: '../x.npy' }, initialState: { h: { file: '/abs/h.npy' } } }));
    assert.deepEqual(files, ['/abs/h.npy', '/w/x.npy']);
  });

  it('a text nested 200 000 deep gives no tree and no files, instead of overflowing the stack', () => {
    const text = '{"inputs": {"file": "x.npy"}, "deep": ' + '['.repeat(200_000) + ']'.repeat(200_000) + '}';
    assert.deepEqual(referencedDataFiles('/w/a.jacobian.json', text), []);
  });
});
