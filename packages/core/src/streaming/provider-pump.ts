// Reading one attempt's provider stream, the same for STT events and TTS chunks: each item is
// handed on as it comes, every wait is raced against the attempt's scope (timeouts, deadline,
// caller abort), and a stream that ends early is told so without being waited on.

/**
 * Reads `stream` to its end, calling `onItem` for each item. Resolves with the error that ended
 * it early, or undefined when it ended by itself; never rejects once the iterator exists.
 */
export async function pumpProviderStream<T>(stream: AsyncIterable<T>, race: <R>(p: Promise<R>) => Promise<R>, onItem: (item: T) => void): Promise<unknown> {
  const it = stream[Symbol.asyncIterator]();
  try {
    for (;;) {
      const r = await race(it.next());
      if (r.done) return undefined;
      onItem(r.value);
    }
  } catch (error) {
    // The provider hears the abort on its signal; its iterator is told too, without waiting.
    Promise.resolve(it.return?.()).then(undefined, () => {});
    return error;
  }
}
