// An eval request with nothing to grade (a blank answer) or an attachment that is not audio is
// refused before the model is called.
import { describe, expect, it } from 'vitest';
import { failure } from '../../test/support/failure.js';
import { createAiClient } from '../client.js';
import { fakeEval } from '../testing/fakes.js';

describe('eval requests', () => {
  it('refuses whitespace-only answers and non-audio attachments', async () => {
    const e = fakeEval([{ ok: true }]);
    const client = createAiClient({ providers: { e } });
    const blank = await failure(client.eval.evaluate({ prompt: '인사하세요', learnerAnswer: '   ' }));
    expect(blank.message).toContain('learnerAnswer: must not be empty');
    const notAudio = await failure(client.eval.evaluate({ prompt: '인사하세요', learnerAnswer: '안녕하세요', audio: { data: new Uint8Array(10), mimeType: 'text/plain' } }));
    expect(notAudio.message).toContain('audio.mimeType: must be an audio MIME type');
    expect(e.calls).toHaveLength(0);
  });
});
