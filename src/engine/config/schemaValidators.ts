// The compiled JSON Schema validators: the whole schema, and each definition a union branch refers to
// (`#/definitions/initializerName`, ...), so that a union can be re-validated branch by branch.
import Ajv, { type ValidateFunction } from 'ajv';
import schemaJson from '../../../schemas/jacobian-config.schema.json';

// `markdownDescription` and friends are VS Code's annotations; ajv must know them in strict mode.
// strictTypes is off because the per-cell rules annotate nested keys (`initialState.c`) without
// repeating their types, which would otherwise report one wrong type twice.
export const EDITOR_KEYWORDS = ['markdownDescription', 'enumDescriptions', 'markdownEnumDescriptions', 'defaultSnippets'];
export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: true, strictTypes: false } as const;

let ajvInstance: Ajv | undefined;

/** The validator of the schema (ref '') or of one of its definitions (ref '#/definitions/NAME'). */
export function validatorFor(ref = ''): ValidateFunction {
  if (!ajvInstance) {
    ajvInstance = new Ajv(AJV_OPTIONS);
    ajvInstance.addVocabulary(EDITOR_KEYWORDS);
    ajvInstance.addSchema(schemaJson as object);
  }
  const validate = ajvInstance.getSchema(schemaJson.$id + ref);
  if (!validate) throw new Error(`no schema ${schemaJson.$id}${ref}`);
  return validate;
}
