// Runs a suite once per backend, like tfjs-core runs each op test on every registered backend.
// A backend that does not load here is reported loudly as a failing test when it is required
// (RNN_JACOBIAN_REQUIRE_BACKENDS, set by CI), and as a visible pending test otherwise — never dropped.
import { switchBackendForTests, tfjsNodeLoadError, type BackendName } from '../../../src/engine/backend/backend';

export const ALL_BACKENDS: BackendName[] = ['cpu', 'wasm', 'tensorflow'];

function required(): Set<string> {
  return new Set((process.env.RNN_JACOBIAN_REQUIRE_BACKENDS ?? '').split(',').map((s) => s.trim()).filter(Boolean));
}

export function forEachBackend(title: string, body: (backend: BackendName) => void): void {
  for (const backend of ALL_BACKENDS) {
    describe(`${title} [backend ${backend}]`, function () {
      let available = false;
      before(async function () {
        available = await switchBackendForTests(backend);
        if (!available) {
          const why = backend === 'tensorflow' ? tfjsNodeLoadError() ?? 'not installed' : 'did not initialise';
          const line = `BACKEND ${backend} UNAVAILABLE on this machine (${why})`;
          console.warn(`\n  !!! ${line}: its tests are NOT run${required().has(backend) ? ' — and it is required here' : ''} !!!\n`);
          if (required().has(backend)) throw new Error(`${line}; run bash scripts/setup-tfjs-node.sh`);
          this.skip();
        }
      });
      body(backend);
    });
  }
}
