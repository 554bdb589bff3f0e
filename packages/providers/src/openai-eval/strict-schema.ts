// The core's evaluation schema in the form OpenAI's strict structured output accepts, and the
// way back: strict mode wants every property required (optional ones made nullable),
// `additionalProperties: false` on every object, and no keywords it does not support.

/** Keywords strict mode refuses (OpenAI structured-outputs guide); their limits move into the description. */
const UNSUPPORTED = new Set(['$schema', 'minLength', 'maxLength', 'patternProperties', 'unevaluatedProperties', 'propertyNames', 'minProperties', 'maxProperties', 'unevaluatedItems', 'contains', 'minContains', 'maxContains', 'uniqueItems', 'default']);

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => Boolean(v) && typeof v === 'object' && !Array.isArray(v);

/** The schema plus `null`: a type list gains 'null', an enum gains null, anything else becomes anyOf [it, null]. */
function nullable(schema: Json): Json {
  if (typeof schema.type === 'string' && !('anyOf' in schema)) {
    const out: Json = { ...schema, type: [schema.type, 'null'] };
    if (Array.isArray(schema.enum)) out.enum = [...(schema.enum as unknown[]), null];
    return out;
  }
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Json[]).some((s) => s.type === 'null') ? schema : { ...schema, anyOf: [...(schema.anyOf as unknown[]), { type: 'null' }] };
  const { description, ...rest } = schema;
  return { anyOf: [rest, { type: 'null' }], ...(description !== undefined && { description }) };
}

/**
 * Rewrites a JSON Schema (as `z.toJSONSchema` writes it) for `strict: true`: every object lists
 * all its properties as required and forbids others, properties that were optional accept
 * null instead, and unsupported keywords are dropped (string lengths are kept as words in the
 * description, so the model still sees the limit the core checks).
 */
export function toStrictSchema(schema: unknown): Json {
  if (!isObject(schema)) return {};
  const out: Json = {};
  const limits: string[] = [];
  for (const [k, v] of Object.entries(schema)) {
    if (UNSUPPORTED.has(k)) {
      if (k === 'maxLength') limits.push(`at most ${String(v)} characters`);
      if (k === 'minLength') limits.push(`at least ${String(v)} characters`);
      continue;
    }
    out[k] = v;
  }
  if (limits.length) out.description = [out.description, `(${limits.join(', ')})`].filter(Boolean).join(' ');
  if (isObject(out.properties)) {
    const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
    const props: Json = {};
    for (const [name, sub] of Object.entries(out.properties)) {
      const strict = toStrictSchema(sub);
      props[name] = required.has(name) ? strict : nullable(strict);
    }
    out.properties = props;
    out.required = Object.keys(props);
    out.additionalProperties = false;
  }
  if (isObject(out.items)) out.items = toStrictSchema(out.items);
  for (const key of ['anyOf', 'oneOf', 'allOf']) if (Array.isArray(out[key])) out[key] = (out[key] as unknown[]).map(toStrictSchema);
  return out;
}

/**
 * Undoes the nulls strict mode wrote for properties the original schema left optional (and does
 * not allow null for), so the answer parses with the core's schema: `{ span: null }` becomes `{}`.
 * Anything the schema does not describe is left as it is, for the core to judge.
 */
export function dropNullOptionals(value: unknown, schema: unknown): unknown {
  if (!isObject(schema)) return value;
  if (Array.isArray(value)) return isObject(schema.items) ? value.map((v) => dropNullOptionals(v, schema.items)) : value;
  if (!isObject(value) || !isObject(schema.properties)) return value;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    const sub = (schema.properties as Json)[k];
    if (v === null && sub !== undefined && !required.has(k) && !allowsNull(sub)) continue;
    out[k] = sub === undefined ? v : dropNullOptionals(v, sub);
  }
  return out;
}

function allowsNull(schema: unknown): boolean {
  if (!isObject(schema)) return true;
  if (schema.type === 'null' || (Array.isArray(schema.type) && schema.type.includes('null'))) return true;
  return Array.isArray(schema.anyOf) && (schema.anyOf as unknown[]).some(allowsNull);
}
