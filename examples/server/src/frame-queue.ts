// The learner's audio frames as the AsyncIterable the streaming STT call reads: frames are
// pushed as they arrive from the socket and pulled by the call; end() is the end of the speech,
// fail() stops the reader with an error (the turn was cut short).

export class FrameQueue implements AsyncIterable<Uint8Array> {
  private readonly frames: Uint8Array[] = [];
  private waiting: { resolve: (r: IteratorResult<Uint8Array>) => void; reject: (e: unknown) => void } | undefined;
  private ended = false;
  private error: unknown;

  push(frame: Uint8Array): void {
    if (this.ended) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w.resolve({ value: frame, done: false });
    } else this.frames.push(frame);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.waiting && this.frames.length === 0) {
      const w = this.waiting;
      this.waiting = undefined;
      w.resolve({ value: undefined, done: true });
    }
  }

  fail(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    this.frames.length = 0;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w.reject(error);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: () => {
        const frame = this.frames.shift();
        if (frame) return Promise.resolve({ value: frame, done: false });
        if (this.error !== undefined) return Promise.reject(this.error);
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
      },
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
