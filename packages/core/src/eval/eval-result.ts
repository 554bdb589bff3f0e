import { z } from 'zod';
import { AiError } from '../errors/ai-error.js';
import { ERROR_TYPES, type EvalErrorItem, type ErrorType } from '../spec/types.js';

/**
 * The JSON an evaluator model must return. This one schema is the source of truth: the
 * Gemini adapter sends `evalOutputJsonSchema` as `responseJsonSchema`, the core parses
 * every answer with it.
 */
export const evalOutputSchema = z.object({
  score: z.number().int().min(0).max(100).describe('Overall score, an integer from 0 to 100'),
  passFail: z.boolean().describe('true when score is at least the pass mark'),
  primaryErrorType: z
    .enum(ERROR_TYPES as [ErrorType, ...ErrorType[]])
    .nullable()
    .describe('The most important kind of mistake, or null when there is none'),
  errors: z
    .array(
      z.object({
        type: z.enum(ERROR_TYPES as [ErrorType, ...ErrorType[]]),
        message: z.string().max(500),
        span: z.string().max(200).optional(),
        correction: z.string().max(200).optional(),
      }),
    )
    .max(20),
  suggestions: z.array(z.string().max(500)).max(10),
  rationale: z.string().max(2000),
});
export type EvalOutput = z.infer<typeof evalOutputSchema>;

/** JSON Schema (draft 2020-12) of `evalOutputSchema`, for structured-output APIs. */
export const evalOutputJsonSchema: Record<string, unknown> = z.toJSONSchema(evalOutputSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;

const TYPES: ReadonlySet<unknown> = new Set(ERROR_TYPES);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const shortString = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;

/**
 * `evalOutputSchema.safeParse(output)` by hand for the common case: the parsed output when
 * `output` matches the schema, undefined when it does not (the schema then names the paths).
 * Exactly the schema's rules and output (unknown keys dropped, arrays copied, an optional key
 * given as undefined kept); a property test holds the two together. Every eval call ends
 * here, and the schema library costs several microseconds a call where this costs a few
 * hundred nanoseconds.
 */
function parseFast(output: unknown): EvalOutput | undefined {
  if (!isRecord(output)) return undefined;
  const { score, passFail, primaryErrorType, errors, suggestions, rationale } = output;
  if (typeof score !== 'number' || !Number.isSafeInteger(score) || score < 0 || score > 100) return undefined;
  if (typeof passFail !== 'boolean') return undefined;
  if (primaryErrorType !== null && !TYPES.has(primaryErrorType)) return undefined;
  if (!Array.isArray(errors) || errors.length > 20) return undefined;
  if (!Array.isArray(suggestions) || suggestions.length > 10) return undefined;
  if (!shortString(rationale, 2000)) return undefined;
  const items: EvalErrorItem[] = new Array(errors.length);
  for (let i = 0; i < errors.length; i++) {
    const e: unknown = errors[i];
    if (!isRecord(e) || !TYPES.has(e.type) || !shortString(e.message, 500)) return undefined;
    const item: EvalErrorItem = { type: e.type as ErrorType, message: e.message };
    if ('span' in e) {
      if (e.span !== undefined && !shortString(e.span, 200)) return undefined;
      item.span = e.span as string;
    }
    if ('correction' in e) {
      if (e.correction !== undefined && !shortString(e.correction, 200)) return undefined;
      item.correction = e.correction as string;
    }
    items[i] = item;
  }
  for (let i = 0; i < suggestions.length; i++) if (!shortString(suggestions[i], 500)) return undefined;
  return { score, passFail, primaryErrorType: primaryErrorType as ErrorType | null, errors: items, suggestions: suggestions.slice() as string[], rationale };
}

/** The schema's own parse, for the paths of what is wrong (and as the reference the fast parse is tested against). */
export function parseEvalOutputWithSchema(output: unknown): { success: true; data: EvalOutput } | { success: false; error: z.ZodError } {
  return evalOutputSchema.safeParse(output);
}

/** Parses evaluator output against the schema: the fast hand parse, the schema's for what it refuses. */
export function parseEvalOutput(output: unknown): { success: true; data: EvalOutput } | { success: false; error: z.ZodError } {
  const data = parseFast(output);
  return data !== undefined ? { success: true, data } : parseEvalOutputWithSchema(output);
}

/**
 * Parses and checks an evaluator's output: the zod schema, then the domain rules
 * (passFail must equal score >= passMark). Throws AiError `schema_violation` (retryable:
 * the next chain step may do better) naming the first bad paths, never quoting the content.
 */
export function checkEvalOutput(output: unknown, passMark: number, provider?: string): EvalOutput & { errors: EvalErrorItem[] } {
  const parsed = parseEvalOutput(output);
  if (!parsed.success) {
    const paths = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.code}`)
      .join('; ');
    throw new AiError('schema_violation', `${provider ?? 'evaluator'}: output does not match the evaluation schema (${paths})`, {
      retryable: true,
      ...(provider !== undefined && { provider }),
    });
  }
  const out = parsed.data;
  if (out.passFail !== out.score >= passMark) {
    throw new AiError(
      'schema_violation',
      `${provider ?? 'evaluator'}: passFail=${out.passFail} contradicts score ${out.score} with pass mark ${passMark}`,
      { retryable: true, ...(provider !== undefined && { provider }) },
    );
  }
  return out as EvalOutput & { errors: EvalErrorItem[] };
}
