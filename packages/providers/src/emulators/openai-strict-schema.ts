// Structured output's strict mode (`response_format: json_schema, strict: true`): the rules a
// schema must keep, named as OpenAI's 400 names them, and how a strict answer fills the schema.

/** Keywords strict structured output does not accept (OpenAI's structured-outputs guide, "unsupported"). */
const STRICT_UNSUPPORTED = [
  'minLength',
  'maxLength',
  'patternProperties',
  'unevaluatedProperties',
  'propertyNames',
  'minProperties',
  'maxProperties',
  'unevaluatedItems',
  'contains',
  'minContains',
  'maxContains',
  'uniqueItems',
];

/** Where strict mode's rules are broken, as OpenAI's 400 names it, or undefined when the schema is acceptable. */
export function strictSchemaProblem(schema: unknown, context: string[] = []): string | undefined {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return undefined;
  const s = schema as Record<string, unknown>;
  const where = `In context=(${context.map((c) => `'${c}'`).join(', ')})`;
  for (const k of STRICT_UNSUPPORTED) if (k in s) return `${where}, '${k}' is not permitted.`;
  if (context.length === 0 && (s.type !== 'object' || 'anyOf' in s)) return `${where}, schema must be a JSON Schema of 'type: "object"', got 'type: "${String(s.type)}"'.`;
  const isObject = s.type === 'object' || (Array.isArray(s.type) && s.type.includes('object'));
  if (isObject) {
    if (s.additionalProperties !== false) return `${where}, 'additionalProperties' is required to be supplied and to be false.`;
    const props = s.properties && typeof s.properties === 'object' ? Object.keys(s.properties) : [];
    const required = Array.isArray(s.required) ? s.required : [];
    const missing = props.filter((p) => !required.includes(p));
    if (missing.length) return `${where}, 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing[0]}'.`;
    for (const p of props) {
      const problem = strictSchemaProblem((s.properties as Record<string, unknown>)[p], [...context, 'properties', p]);
      if (problem) return problem;
    }
  }
  if (s.items) {
    const problem = strictSchemaProblem(s.items, [...context, 'items']);
    if (problem) return problem;
  }
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    if (!Array.isArray(s[key])) continue;
    for (const [i, sub] of (s[key] as unknown[]).entries()) {
      const problem = strictSchemaProblem(sub, [...context, key, String(i)]);
      if (problem) return problem;
    }
  }
  return undefined;
}

/**
 * Fills what a strict schema requires but the grade left out with null (a strict model writes
 * every property, null where the schema allows it), so the answer looks as OpenAI's would.
 */
export function conformToSchema(value: unknown, schema: unknown): unknown {
  if (!schema || typeof schema !== 'object') return value;
  const s = schema as { type?: unknown; properties?: Record<string, unknown>; items?: unknown };
  if (Array.isArray(value)) return value.map((v) => conformToSchema(v, s.items));
  if (value && typeof value === 'object' && s.properties) {
    const out: Record<string, unknown> = {};
    for (const [k, sub] of Object.entries(s.properties)) {
      const v = (value as Record<string, unknown>)[k];
      out[k] = v === undefined ? null : conformToSchema(v, sub);
    }
    return out;
  }
  return value;
}
