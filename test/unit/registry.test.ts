// The diagnostics registry is the one list: the schema's enum, descriptions and default, the RunSpec, the
// run's report and the CLI table follow it, and each entry declares everything the others read.
import { strict as assert } from 'node:assert';
import { analyzeText } from '../../src/engine';
import { DEFAULT_DIAGNOSTICS, DIAGNOSTIC_DEFS, DIAGNOSTIC_NAMES, type DiagnosticName } from '../../src/engine/diagnostics';
import { DEFAULTS } from '../../src/engine/config/validate';
import { formatReport } from '../../src/cli/table';
import schemaJson from '../../schemas/jacobian-config.schema.json';

describe('diagnostics registry', () => {
  it('the config schema lists exactly the registry: names, descriptions, default', () => {
    const def = schemaJson.definitions.diagnostic as { enum: string[]; enumDescriptions: string[] };
    assert.deepEqual(def.enum, DIAGNOSTIC_NAMES, 'schemas/jacobian-config.schema.json definitions.diagnostic.enum');
    assert.deepEqual(def.enumDescriptions, DIAGNOSTIC_DEFS.map((d) => d.description), 'enumDescriptions');
    assert.deepEqual(schemaJson.properties.diagnostics.default, DEFAULT_DIAGNOSTICS, 'properties.diagnostics.default');
    assert.deepEqual(DEFAULTS.diagnostics, DEFAULT_DIAGNOSTICS);
  });

  it('every entry says how it is computed, reported and shown', () => {
    for (const d of DIAGNOSTIC_DEFS) {
      assert.equal([d.scalar, d.arrays, d.series].filter(Boolean).length, 1, `${d.name}: exactly one of scalar / arrays / series`);
      assert.equal(d.needs, d.series ? 'series' : 'jacobian', `${d.name}: needs`);
      const sc = d.scalar;
      if (sc) {
        assert.ok(sc.fromMoments || sc.fromSpectrum, `${d.name}: no way to compute it`);
        if (sc.matrixFree) assert.ok(sc.fromSpectrum && sc.spectrum, `${d.name}: matrix-free without a dense fallback`);
      }
      if (d.arrays) {
        const arrays = Object.values(d.arrays.allocate(3, 5, 4)) as Float32Array[];
        assert.equal(arrays.reduce((s, a) => s + a.length, 0), 3 * d.arrays.floatsPerMatrix(5, 4), `${d.name}: floatsPerMatrix is what allocate allocates`);
      }
      assert.ok(d.panel.label.length > 0, `${d.name}: panel label`);
    }
    assert.equal(new Set(DIAGNOSTIC_NAMES).size, DIAGNOSTIC_NAMES.length, 'names are unique');
  });

  for (const name of DIAGNOSTIC_NAMES) {
    it(`"${name}" alone: the run reports what its entry declares, and nothing it does not`, async () => {
      const config = { cell: 'seed', units: 6, inputDim: 2, timeSteps: 2, batchSize: 2, seed: 1, diagnostics: [name] };
      const r = await analyzeText(JSON.stringify(config), '/tmp/registry.jacobian.json');
      const pair = r.report.jacobians[0];
      const step = pair.steps[0] as unknown as Record<string, number[] | undefined>;
      for (const d of DIAGNOSTIC_DEFS.filter((x) => x.scalar)) {
        const expected = d.name === name || d.always;
        assert.equal(step[d.name]?.length, expected ? 2 : undefined, `StepStats.${d.name}`);
        if (expected) assert.ok(step[d.name]!.every(Number.isFinite), `${d.name} is finite`);
      }
      const arrays = r.arrays.pairs[0] as Record<string, Float32Array | undefined>;
      for (const d of DIAGNOSTIC_DEFS.filter((x) => x.arrays)) {
        for (const key of Object.keys(d.arrays!.allocate(1, 6, 6))) {
          assert.equal(arrays[key] !== undefined, d.name === name, `arrays.${key} with diagnostics [${name}]`);
        }
      }
      for (const d of DIAGNOSTIC_DEFS.filter((x) => x.series)) {
        assert.equal(pair[d.series!.report] !== undefined, d.name === name, `PairReport.${d.series!.report} with diagnostics [${name}]`);
      }
      const table = formatReport(r.report);
      const def = DIAGNOSTIC_DEFS.find((d) => d.name === name)!;
      if (def.cli) assert.match(table, new RegExp(def.cli.header), 'its CLI column');
      for (const other of DIAGNOSTIC_DEFS.filter((d) => d.cli && d.name !== name)) {
        assert.doesNotMatch(table.split('\n').filter((l) => l.trim().startsWith('step')).join('\n'), new RegExp(other.cli!.header), `no ${other.name} column`);
      }
    });
  }

  it('the CLI columns follow the config\'s order', async () => {
    const order: DiagnosticName[] = ['spectralRadius', 'varTimesFanIn', 'spectralNorm'];
    const config = { cell: 'seed', units: 6, inputDim: 2, timeSteps: 2, seed: 1, diagnostics: order };
    const r = await analyzeText(JSON.stringify(config), '/tmp/registry.jacobian.json');
    const header = formatReport(r.report).split('\n').find((l) => l.trim().startsWith('step'))!;
    assert.deepEqual(header.trim().split(/\s{2,}/), ['step', 'spectral radius', 'varTimesFanIn', 'expected', 'spectral norm']);
  });
});
