import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from './streaming-example.js';

const README = new URL('../README.md', import.meta.url);
const EXAMPLE = new URL('./streaming-example.ts', import.meta.url);

describe('the README streaming example', () => {
  it('is embedded verbatim in packages/core/README.md', () => {
    const readme = readFileSync(README, 'utf8');
    const block = /<!-- example: packages\/core\/test\/streaming-example\.ts -->\n```ts\n([\s\S]*?)```\n<!-- \/example -->/.exec(readme);
    expect(block?.[1]).toBe(readFileSync(EXAMPLE, 'utf8'));
  });

  it('runs: the fallback hears the buffered audio, the reply comes in two sentences, three usage rows', async () => {
    expect(await main()).toEqual(['final: 안녕하세요', 'heard "안녕하세요" from whisper after 2 attempts', '2 audio chunks, 19 characters billed', '3 usage rows']);
  });
});
