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

/**
 * Parses and checks an evaluator's output: the zod schema, then the domain rules
 * (passFail must equal score >= passMark). Throws AiError `schema_violation` (retryable:
 * the next chain step may do better) naming the first bad paths, never quoting the content.
 */
export function checkEvalOutput(output: unknown, passMark: number, provider?: string): EvalOutput & { errors: EvalErrorItem[] } {
  const parsed = evalOutputSchema.safeParse(output);
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
