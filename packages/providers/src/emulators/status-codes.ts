// HTTP status <-> google.rpc.Code, as Google's own gateways map them
// (https://github.com/googleapis/googleapis/blob/master/google/rpc/code.proto).

/** google.rpc.Code names by number. */
export const GRPC_CODE_NAMES: Record<number, string> = {
  0: 'OK',
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  15: 'DATA_LOSS',
  16: 'UNAUTHENTICATED',
};

const HTTP_FOR_GRPC: Record<number, number> = {
  0: 200,
  1: 499,
  2: 500,
  3: 400,
  4: 504,
  5: 404,
  6: 409,
  7: 403,
  8: 429,
  9: 400,
  10: 409,
  11: 400,
  12: 501,
  13: 500,
  14: 503,
  15: 500,
  16: 401,
};

/** True for a gRPC code (0..16) rather than an HTTP status (100..599). */
export function isGrpcCode(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 16;
}

/** The gRPC code for an HTTP status (or the code itself when given one). */
export function grpcCodeFor(status: number): number {
  if (isGrpcCode(status)) return status;
  switch (status) {
    case 400:
      return 3;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
      return 5;
    case 408:
    case 504:
      return 4;
    case 409:
      return 10;
    case 412:
      return 9;
    case 413:
      return 3;
    case 429:
      return 8;
    case 499:
      return 1;
    case 501:
      return 12;
    case 502:
    case 503:
      return 14;
    default:
      return status >= 500 ? 13 : status >= 400 ? 9 : 2;
  }
}

/** The HTTP status for a gRPC code (or the status itself when given one). */
export function httpStatusFor(status: number): number {
  return isGrpcCode(status) ? HTTP_FOR_GRPC[status]! : status;
}

/** The google.rpc.Code name Google puts in JSON error bodies ("status": "RESOURCE_EXHAUSTED"). */
export function googleStatusName(status: number): string {
  return GRPC_CODE_NAMES[grpcCodeFor(status)] ?? 'UNKNOWN';
}
