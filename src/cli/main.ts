// `rnn-jacobian analyze CONFIG [--json OUT.json] [--save DIR] [--backend tensorflow|wasm|cpu] [--method structured|autodiff]`
// A thin shell over the engine: parse arguments, run, print a table, write files only after success.
// Exit codes: 0 ok, 2 bad input (config, data files, arguments), 1 internal error.
import { analyzeFile, formatIssue, saveRun, UserError } from '../engine';
import { writeFileAtomic } from '../engine/run/save';
import { BackendUnavailableError } from '../engine/backend/backend';
import { formatReport } from './table';
import { ArgumentError, backendArgument, parseCommand } from './args';
import { controlMain } from './control';

const USAGE = `usage: rnn-jacobian analyze CONFIG [--json OUT.json] [--save DIR] [--backend tensorflow|wasm|cpu|auto] [--method structured|autodiff] [--spectra auto|matrix-free|dense] [--quiet]

  CONFIG            a *.jacobian.json file
  --json OUT.json   write every number (versioned report) to OUT.json
  --save DIR        write parameters, trajectory and Jacobians as float32 .npy files with DIR/manifest.json
  --backend NAME    tensorflow (tfjs-node), wasm or cpu; default auto (the fastest for this run's estimated work,
                    load time included; stderr says which and why)
  --method NAME     structured (default: closed-form rules per op) or autodiff (tfjs reverse mode)
  --spectra NAME    how spectralNorm and spectralRadius are computed: matrix-free (Krylov), dense, or auto
                    (default auto: dense where n is small enough to be faster, else matrix-free)
  --quiet           print nothing but errors

  rnn-jacobian stabilize|floss --help: LSC pre-training and gradient flossing`;


async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'stabilize' || argv[0] === 'floss') return controlMain(argv);
  const parsed = parseCommand(argv, {
    json: { type: 'string' },
    save: { type: 'string' },
    backend: { type: 'string', default: 'auto' },
    method: { type: 'string' },
    spectra: { type: 'string', default: 'auto' },
    quiet: { type: 'boolean', default: false },
  }, ['analyze'], USAGE);
  if (!parsed) return 0;
  const { config, values } = parsed;
  const backend = backendArgument(values.backend as string, USAGE);
  const method = values.method;
  if (method !== undefined && method !== 'structured' && method !== 'autodiff') throw new ArgumentError(`--method must be structured or autodiff, got "${method}"`, USAGE);
  const spectra = values.spectra!;
  if (!['auto', 'matrix-free', 'dense'].includes(spectra)) throw new ArgumentError(`--spectra must be auto, matrix-free or dense, got "${spectra}"`, USAGE);

  const result = await analyzeFile(config, {
    spectra: spectra as 'auto',
    backend,
    method: method as 'structured' | undefined,
    // Whole Jacobians are kept only when they will be saved or when spectra need them.
    keepJacobiansMB: values.save ? Infinity : 0,
  });
  // Which backend and why goes to stderr: stdout stays the table.
  if (!values.quiet && result.report.backendReason) console.error(result.report.backendReason);
  if (!values.quiet) console.log(formatReport(result.report));
  if (values.save) {
    const manifest = saveRun(result, values.save);
    if (!values.quiet) console.log(`saved ${manifest.files.length} .npy files and manifest.json to ${values.save}`);
  }
  if (values.json) {
    writeFileAtomic(values.json, JSON.stringify(result.report, null, 2) + '\n');
    if (!values.quiet) console.log(`wrote ${values.json}`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UserError) {
      for (const issue of e.issues) console.error(`error: ${formatIssue(issue)}`);
      process.exit(2);
    }
    if (e instanceof ArgumentError) {
      console.error(`error: ${e.message}\n\n${e.usage}`);
      process.exit(2);
    }
    if (e instanceof BackendUnavailableError) {
      console.error(`error: ${e.message}`);
      process.exit(2);
    }
    console.error(`internal error: ${(e as Error)?.stack ?? String(e)}`);
    process.exit(1);
  },
);
