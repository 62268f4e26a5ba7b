import { randomInt } from "node:crypto";

/** No 0/O, 1/I/L: easy to read aloud and type. */
export const UNAMBIGUOUS = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

export function randomCode(length: number, alphabet = UNAMBIGUOUS): string {
  let s = "";
  for (let i = 0; i < length; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
}

/** "OL-7K3Q9D": 31^6 ≈ 887 million; the unique index catches a collision and the caller retries. */
export function newOrderNumber(): string {
  return `OL-${randomCode(6)}`;
}
