// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { ulidAt, ulidTime } from './ulid';

describe('ulid', () => {
  it('reads the time a ULID carries', () => {
    // The spec's example: 01ARZ3NDEK is 1469922850259 ms.
    expect(ulidTime('01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(1469922850259);
  });

  it('makes the smallest ULID of a millisecond, clamped at the epoch', () => {
    expect(ulidAt(1469922850259)).toBe('01ARZ3NDEK0000000000000000');
    expect(ulidAt(1469922850259) < '01ARZ3NDEKTSV4RRFFQ69G5FAV').toBe(true);
    expect(ulidAt(-5)).toBe('00000000000000000000000000');
  });
});
