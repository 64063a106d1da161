// Reading failures: the machine-readable `code` (docs/reference.md, "Errors") of an HTTP error
// body, a failed ack or a refused handshake's connect_error, and the text to show people.
import type { ErrorCode } from './types';

// A record, so that the compiler insists every code of the union is listed.
const KNOWN: Record<ErrorCode, true> = {
  unauthorized: true,
  forbidden: true,
  not_found: true,
  conflict: true,
  invalid: true,
  not_joined: true,
  rate_limited: true,
  too_large: true,
  unsupported: true,
  unavailable: true,
  internal: true,
};

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(KNOWN, value);
}

/** The `code` field of `value` if it is one this client knows, else null. */
export function errorCodeOf(value: unknown): ErrorCode | null {
  if (typeof value !== 'object' || value === null || !('code' in value)) return null;
  return isErrorCode(value.code) ? value.code : null;
}

/** Why the server refused the Socket.IO handshake: `err.data.code`, or null if it did not say. */
export function handshakeCode(error: Error): ErrorCode | null {
  return 'data' in error ? errorCodeOf(error.data) : null;
}

/** How many seconds the server asked to wait before the next handshake, if it said. */
export function handshakeRetryAfter(error: Error): number | null {
  if (!('data' in error) || typeof error.data !== 'object' || error.data === null) return null;
  const retryAfter: unknown = (error.data as { retryAfter?: unknown }).retryAfter;
  return typeof retryAfter === 'number' && retryAfter >= 0 ? retryAfter : null;
}

/** The text to show for something thrown. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
