// Types of the validators scripts/compile-schema.mjs generates (at build time) into schemaValidators.js:
// `root` for the whole config schema, `def_NAME` for each of its definitions.
import type { ValidateFunction } from 'ajv';

declare const validators: { readonly [name: string]: ValidateFunction | undefined };
export default validators;
