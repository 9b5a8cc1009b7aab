// Where a control run's weights go by default. Its own file, free of tfjs, so that the extension host can name
// the folder (and ask before replacing it) without loading the engine.
import * as path from 'node:path';

/** The folder a result goes to by default: beside the config, `NAME.stabilized` or `NAME.flossed`. */
export function defaultOutDir(configFile: string, kind: 'stabilize' | 'floss'): string {
  const base = path.basename(configFile).replace(/\.jacobian\.json$|\.json$/, '');
  return path.join(path.dirname(configFile), `${base}.${kind === 'stabilize' ? 'stabilized' : 'flossed'}`);
}
