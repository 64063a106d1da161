// ULIDs (https://github.com/ulid/spec): 26 Crockford base32 characters, the first 10 of them the
// creation time in milliseconds. Message ids are ULIDs, so a time can be turned into a cursor.
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_LENGTH = 10;
const RANDOM_LENGTH = 16;

/** The creation time a ULID carries, in milliseconds since the epoch. */
export function ulidTime(id: string): number {
  let millis = 0;
  for (const char of id.slice(0, TIME_LENGTH).toUpperCase()) {
    const digit = CROCKFORD.indexOf(char);
    if (digit === -1) throw new Error(`not a ULID: ${id}`);
    millis = millis * 32 + digit;
  }
  return millis;
}

/** The smallest ULID of millisecond `millis` (zero randomness); clamped at the epoch. */
export function ulidAt(millis: number): string {
  let rest = Math.max(Math.floor(millis), 0);
  let time = '';
  for (let index = 0; index < TIME_LENGTH; index += 1) {
    time = CROCKFORD[rest % 32]! + time;
    rest = Math.floor(rest / 32);
  }
  return time + '0'.repeat(RANDOM_LENGTH);
}
