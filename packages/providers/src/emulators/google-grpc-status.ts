// gRPC status helpers shared by the Google emulator's unary and streaming methods: an error
// with a gRPC code, Google's status trailers (google.rpc.Status with ErrorInfo / RetryInfo
// details), the status a fault ends a call with, and protobuf Durations.

import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { GoogleProtoPaths } from './google-protos.js';
import { GRPC_CODE_NAMES, grpcCodeFor } from './status-codes.js';
import type { EmulatorTarget, Fault } from './types.js';

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export const invalid = (message: string) => new RpcError(grpc.status.INVALID_ARGUMENT, message);

type GaxModule = typeof import('google-gax');
type ProtoType = ReturnType<InstanceType<GaxModule['protobuf']['Root']>['lookupType']>;

interface RpcTypes {
  status: ProtoType;
  retryInfo: ProtoType;
  errorInfo: ProtoType;
  localizedMessage: ProtoType;
}

/** protobufjs types for google.rpc.Status and its details, loaded through google-gax (which ships protobufjs) on first use. */
let rpcTypes: Promise<RpcTypes> | undefined;

function loadRpcTypes(paths: GoogleProtoPaths): Promise<RpcTypes> {
  rpcTypes ??= import('google-gax').then((mod) => {
    const protobuf = mod.protobuf ?? (mod as unknown as { default: GaxModule }).default.protobuf;
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(paths.gaxProtos, target));
    root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);
    return {
      status: root.lookupType('google.rpc.Status'),
      retryInfo: root.lookupType('google.rpc.RetryInfo'),
      errorInfo: root.lookupType('google.rpc.ErrorInfo'),
      localizedMessage: root.lookupType('google.rpc.LocalizedMessage'),
    };
  });
  return rpcTypes;
}

/** Google's message for a bad API key, in the status and its LocalizedMessage detail. */
export const API_KEY_INVALID_MESSAGE = 'API key not valid. Please pass a valid API key.';

/**
 * The trailers Google sends with an error that carries details: the full google.rpc.Status in
 * `grpc-status-details-bin` (google-gax decodes it into `err.statusDetails` and promotes an
 * ErrorInfo to `err.reason` / `err.domain`), plus the bare RetryInfo in
 * `google.rpc.retryinfo-bin` when there is a retry delay.
 */
export async function statusTrailers(
  paths: GoogleProtoPaths,
  code: number,
  message: string,
  extra: { retryAfterSeconds?: number; errorInfo?: { reason: string; domain: string; metadata: Record<string, string> } },
): Promise<grpc.Metadata> {
  const types = await loadRpcTypes(paths);
  const md = new grpc.Metadata();
  const details: { type_url: string; value: Uint8Array }[] = [];
  if (extra.errorInfo) {
    details.push({ type_url: 'type.googleapis.com/google.rpc.ErrorInfo', value: types.errorInfo.encode(extra.errorInfo).finish() });
    details.push({ type_url: 'type.googleapis.com/google.rpc.LocalizedMessage', value: types.localizedMessage.encode({ locale: 'en-US', message }).finish() });
  }
  if (extra.retryAfterSeconds !== undefined) {
    const whole = Math.floor(extra.retryAfterSeconds);
    const retryInfo = types.retryInfo.encode({ retryDelay: { seconds: whole, nanos: Math.round((extra.retryAfterSeconds - whole) * 1e9) } }).finish();
    details.push({ type_url: 'type.googleapis.com/google.rpc.RetryInfo', value: retryInfo });
    md.set('google.rpc.retryinfo-bin', Buffer.from(retryInfo));
  }
  md.set('grpc-status-details-bin', Buffer.from(types.status.encode({ code, message, details }).finish()));
  return md;
}

/** Splits text after sentence punctuation, one recognition result each. */
export function sentencesOf(text: string): string[] {
  return text
    .split(/(?<=[.!?。！？])\s+/u)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function duration(ms: number): { seconds: string; nanos: number } {
  const s = Math.floor(ms / 1000);
  return { seconds: String(s), nanos: Math.round(ms - s * 1000) * 1_000_000 };
}

/** Milliseconds of a protobuf Duration as protoLoader hands it over (seconds as a string). */
export function durationMs(d: { seconds?: string | number; nanos?: number } | undefined): number {
  return d ? Number(d.seconds ?? 0) * 1000 + (d.nanos ?? 0) / 1e6 : 0;
}

/**
 * The error a `status` or `api_key_invalid` fault ends a call with (undefined for other kinds):
 * the code, Google's message, and the trailers with the details Google sends.
 */
export async function faultStatus(paths: GoogleProtoPaths, target: EmulatorTarget, fault: Fault | undefined): Promise<grpc.StatusObject | undefined> {
  if (fault?.kind === 'status') {
    const code = grpcCodeFor(fault.status);
    const message = fault.message ?? `${GRPC_CODE_NAMES[code]}: emulated failure`;
    const metadata = fault.retryAfterSeconds !== undefined ? await statusTrailers(paths, code, message, { retryAfterSeconds: fault.retryAfterSeconds }) : new grpc.Metadata();
    return { code, details: message, metadata };
  }
  if (fault?.kind === 'api_key_invalid') {
    // As Google: INVALID_ARGUMENT, told apart from a bad request only by the ErrorInfo detail.
    const service = target === 'google-stt' ? 'speech.googleapis.com' : 'texttospeech.googleapis.com';
    const metadata = await statusTrailers(paths, grpc.status.INVALID_ARGUMENT, API_KEY_INVALID_MESSAGE, {
      errorInfo: { reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service } },
    });
    return { code: grpc.status.INVALID_ARGUMENT, details: API_KEY_INVALID_MESSAGE, metadata };
  }
  return undefined;
}
