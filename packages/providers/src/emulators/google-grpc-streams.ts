// The bidi-streaming side of the Google gRPC emulator: one handler shape for StreamingRecognize
// and StreamingSynthesize. It counts the stream as one hit when its first request arrives, picks
// its fault (the streaming kinds included), ends it at once for `status` / `api_key_invalid`,
// and hands the requests to the method's reader, whose responses go out through a StreamPump.

import type * as grpc from '@grpc/grpc-js';
import type { FaultScript, HitCounter } from './faults.js';
import { faultStatus } from './google-grpc-status.js';
import type { GoogleProtoPaths } from './google-protos.js';
import { StreamPump } from './stream-pump.js';
import type { EmulatorTarget } from './types.js';

type AnyObject = Record<string, unknown>;

export interface StreamReader {
  onRequest(req: AnyObject): void;
  onEnd(): void;
}

export interface StreamContext {
  faults: FaultScript;
  hits: HitCounter;
  paths: GoogleProtoPaths;
  /** Aborts when the emulator closes. */
  closeSignal: AbortSignal;
  isClosing: () => boolean;
}

/** A grpc-js bidi handler: `names` reads the model / voice from the first request, `reader` makes the method's reader. */
export function bidiHandler(ctx: StreamContext, target: EmulatorTarget, names: (first: AnyObject) => string[], reader: (pump: StreamPump) => StreamReader) {
  return (call: grpc.ServerDuplexStream<AnyObject, AnyObject>) => {
    const ctl = new AbortController();
    const signal = AbortSignal.any([ctl.signal, ctx.closeSignal]);
    let requestNames: string[] | undefined;
    let handler: StreamReader | undefined;
    let pump: StreamPump | undefined;
    // Requests that arrive while a status fault's trailers are being built wait here.
    let starting: Promise<void> | undefined;
    call.on('cancelled', () => {
      ctl.abort();
      if (requestNames && !pump?.closed && !ctx.isClosing()) ctx.hits.recordAborted(target, requestNames);
    });
    const start = async (first: AnyObject) => {
      requestNames = names(first);
      ctx.hits.record(target, requestNames);
      const fault = ctx.faults.pick(target, requestNames, true);
      const failure = await faultStatus(ctx.paths, target, fault);
      pump = new StreamPump(call, fault, signal);
      if (failure) return pump.fail(failure.code, failure.details, failure.metadata);
      handler = reader(pump);
    };
    call.on('data', (req: AnyObject) => {
      if (!starting) starting = start(req);
      void starting.then(() => handler?.onRequest(req));
    });
    call.on('end', () => {
      void (starting ?? Promise.resolve()).then(() => {
        if (handler) handler.onEnd();
        else if (!pump) call.end();
      });
    });
  };
}
