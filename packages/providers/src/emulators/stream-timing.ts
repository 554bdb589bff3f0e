// The pacing of the emulated streaming calls: one mutable timing shared by StreamingRecognize and
// StreamingSynthesize, so a bench can set latencies from public measurements and a test can slow
// one part down.

import { AiError } from '@korean-together/core';
import type { StreamTiming, StreamTimingControl } from './types.js';

export const DEFAULT_STREAM_TIMING: Readonly<StreamTiming> = {
  recognizeFirstResultMs: 0,
  recognizeInterimMs: 0,
  recognizeFinalMs: 0,
  synthesizeFirstChunkMs: 0,
  synthesizePerChunkMs: 0,
  synthesizeChunkAudioMs: 200,
};

export class StreamTimingSettings implements StreamTimingControl {
  private timing: StreamTiming = { ...DEFAULT_STREAM_TIMING };
  private readonly initial: StreamTiming;

  constructor(initial: Partial<StreamTiming> = {}) {
    this.set(initial);
    this.initial = { ...this.timing };
  }

  get(): StreamTiming {
    return { ...this.timing };
  }

  set(partial: Partial<StreamTiming>): void {
    for (const [key, value] of Object.entries(partial)) {
      if (!(key in DEFAULT_STREAM_TIMING)) {
        throw new AiError('invalid_config', `emulators: streamTiming.${key} is not a timing (use ${Object.keys(DEFAULT_STREAM_TIMING).join(', ')})`, { retryable: false });
      }
      const min = key === 'synthesizeChunkAudioMs' ? 1 : 0;
      if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
        throw new AiError('invalid_config', `emulators: streamTiming.${key} must be a finite number >= ${min} ms (got ${String(value)})`, { retryable: false });
      }
    }
    this.timing = { ...this.timing, ...partial };
  }

  reset(): void {
    this.timing = { ...this.initial };
  }
}
