// A per-request voice is a model with a price: one the price table does not know is refused
// before the provider is called, so no attempt goes unpriced.
import { describe, expect, it } from 'vitest';
import { failure } from '../../test/support/failure.js';
import { createAiClient } from '../client.js';
import { fakeTts } from '../testing/fakes.js';

describe('TTS voices and the price table', () => {
  it('refuses a per-request voice the price table does not know', async () => {
    const t = Object.assign(fakeTts([{ ok: true }]), { modelIdFor: (req: { voice?: string }) => req.voice ?? 'ko-KR-Wavenet-A' });
    const client = createAiClient({ providers: { t } });
    const e = await failure(client.tts.synthesize({ text: '안녕하세요', voice: 'en-GB-News-G' }));
    expect(e).toMatchObject({ code: 'invalid_request' });
    expect(e.message).toContain("voice: no price for 'en-GB-News-G'");
    expect(t.calls).toHaveLength(0);
  });
});
