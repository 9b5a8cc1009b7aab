// The JSON Schema validators, compiled at build time (scripts/compile-schema.mjs, run by scripts/build.mjs):
// nothing compiles a schema when the CLI, the engine process or the extension starts. One validator for the
// whole schema and one per definition (`#/definitions/initializerName`, ...), so that a union can be
// re-validated branch by branch.
import type { ValidateFunction } from 'ajv';
import validators from './generated/schemaValidators';

/** The validator of the schema (ref '') or of one of its definitions (ref '#/definitions/NAME'). */
export function validatorFor(ref = ''): ValidateFunction {
  const name = ref === '' ? 'root' : `def_${ref.replace('#/definitions/', '')}`;
  const validate = validators[name];
  if (!validate) throw new Error(`no compiled validator for the schema${ref ? ` definition ${ref}` : ''}; run node scripts/build.mjs`);
  return validate;
}
