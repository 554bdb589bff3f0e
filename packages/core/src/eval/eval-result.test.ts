import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_TYPES } from '../spec/types.js';
import { checkEvalOutput, parseEvalOutput, parseEvalOutputWithSchema } from './eval-result.js';

const good = { score: 85, passFail: true, primaryErrorType: null, errors: [], suggestions: ['계속 연습하세요'], rationale: 'Correct and polite.' };

/** Strings inside a length limit, at it, and one past it. */
const okStr = (max: number) => fc.oneof(fc.string({ maxLength: 3 }), fc.constant('가'.repeat(max)));
const junk = fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer(), fc.constant([]), fc.constant({}), fc.boolean(), fc.constant('x'.repeat(2001)));
const validItem = fc.record(
  { type: fc.constantFrom(...ERROR_TYPES), message: okStr(500), span: fc.oneof(okStr(200), fc.constant(undefined)), correction: okStr(200), extra: fc.string() },
  { requiredKeys: ['type', 'message'] },
);
const validOutput = fc.record(
  {
    score: fc.integer({ min: 0, max: 100 }),
    passFail: fc.boolean(),
    primaryErrorType: fc.constantFrom(...ERROR_TYPES, null),
    errors: fc.array(validItem, { maxLength: 20 }),
    suggestions: fc.array(okStr(500), { maxLength: 10 }),
    rationale: okStr(2000),
    note: fc.string(),
  },
  { requiredKeys: ['score', 'passFail', 'primaryErrorType', 'errors', 'suggestions', 'rationale'] },
);
/** A valid output with one part broken: a field replaced, an item broken, a list one too long. */
const broken = fc.oneof(
  fc.tuple(validOutput, fc.constantFrom('score', 'passFail', 'primaryErrorType', 'errors', 'suggestions', 'rationale'), fc.oneof(junk, fc.double(), fc.constant(2 ** 60), fc.constant(101), fc.constant(-1), fc.constant('spelling'))).map(([o, k, v]) => ({ ...o, [k]: v })),
  fc.tuple(validOutput, validItem, fc.constantFrom('type', 'message', 'span', 'correction'), junk).map(([o, item, k, v]) => ({ ...o, errors: [...o.errors.slice(0, 5), { ...item, [k]: v }] })),
  fc.tuple(validOutput, fc.oneof(junk, fc.constant('a'.repeat(501)))).map(([o, v]) => ({ ...o, suggestions: [...o.suggestions.slice(0, 5), v] })),
  fc.tuple(validOutput, validItem, fc.constantFrom(['message', 501], ['span', 201], ['correction', 201])).map(([o, item, [k, n]]) => ({ ...o, errors: [{ ...item, [k as string]: 'a'.repeat(n as number) }] })),
  validOutput.map((o) => ({ ...o, rationale: 'a'.repeat(2001) })),
  validOutput.map((o) => ({ ...o, errors: Array.from({ length: 21 }, () => ({ type: 'grammar', message: 'm' })) })),
  validOutput.map((o) => ({ ...o, suggestions: Array.from({ length: 11 }, () => 's') })),
);
const output = fc.oneof(validOutput, broken, junk, fc.constant(new Date(0)), fc.constant(Object.assign(Object.create(null), good)));

describe('evaluator output parsing', () => {
  it('the hand parse accepts exactly what the schema accepts, and returns what it returns', () => {
    let valid = 0;
    fc.assert(
      fc.property(output, (o) => {
        const fast = parseEvalOutput(o);
        const schema = parseEvalOutputWithSchema(o);
        valid += schema.success ? 1 : 0;
        expect(fast.success).toBe(schema.success);
        if (fast.success && schema.success) expect(fast.data).toStrictEqual(schema.data);
        if (!fast.success && !schema.success) expect(fast.error.issues).toEqual(schema.error.issues);
      }),
      { numRuns: 3_000 },
    );
    // Both sides of the line are exercised.
    expect(valid).toBeGreaterThan(500);
    expect(valid).toBeLessThan(2_500);
  });

  it('checks valid output fast and names the paths of bad output', () => {
    expect(checkEvalOutput({ ...good, extra: 1 }, 70)).toStrictEqual(good);
    expect(() => checkEvalOutput({ ...good, score: 101 }, 70, 'flash')).toThrow(expect.objectContaining({ code: 'schema_violation', message: 'flash: output does not match the evaluation schema (score: too_big)' }));
    expect(() => checkEvalOutput({ ...good, score: 60 }, 70, 'flash')).toThrow(expect.objectContaining({ code: 'schema_violation', message: expect.stringContaining('contradicts score 60') }));
  });
});
