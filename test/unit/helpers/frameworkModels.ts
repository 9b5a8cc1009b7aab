// The models test/fixtures/models/make_framework_models.py saved with PyTorch and Keras 3 themselves, each with the
// meta.json that says what the framework built (cell, sizes, and the `weights` block that loads it).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './repo';

export const MODELS = join(repoRoot(), 'test', 'fixtures', 'models');

export interface FrameworkMeta {
  cell: 'simple_rnn' | 'lstm' | 'gru';
  units: number;
  inputDim: number;
  activation: string;
  /** A PyTorch num_layers > 1 module. */
  layers?: number;
  weights: Record<string, string>;
}

export function frameworkFixture(framework: string, name: string): { dir: string; meta: FrameworkMeta } {
  const dir = join(MODELS, framework, name);
  return { dir, meta: JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as FrameworkMeta };
}

/** The fixture names of one framework ('torch' or 'keras3'), sorted. */
export function frameworkFixtureNames(framework: string): string[] {
  return readdirSync(join(MODELS, framework)).sort();
}
