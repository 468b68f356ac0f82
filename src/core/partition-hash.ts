// The stable key hash that places a message in a partition, and a key on a key_shared client.
//
// Hash: 32-bit FNV-1a over the UTF-8 bytes of the key (offset basis 2166136261, prime
// 16777619), as an unsigned integer. Partition = hash mod partitions. The function and its
// constants are part of Weir's contract: clients in other languages may compute the same
// partition, and changing it would split a key's history across partitions, so it never
// changes. A message without a key goes to the partitions in turn (round-robin).

const fnvOffsetBasis = 2166136261;
const fnvPrime = 16777619;

export function keyHash(key: string): number {
  let hash = fnvOffsetBasis;
  for (let index = 0; index < key.length; index++) {
    let code = key.charCodeAt(index);
    // Encode as UTF-8 on the fly so the hash is over bytes, as documented.
    if (code < 0x80) {
      hash = Math.imul(hash ^ code, fnvPrime);
      continue;
    }
    if (code >= 0xd800 && code <= 0xdbff && index + 1 < key.length) {
      const low = key.charCodeAt(index + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        index += 1;
      }
    }
    for (const byte of utf8Bytes(code)) hash = Math.imul(hash ^ byte, fnvPrime);
  }
  return hash >>> 0;
}

export function partitionForKey(key: string, partitions: number): number {
  return keyHash(key) % partitions;
}

function utf8Bytes(code: number): number[] {
  if (code < 0x800) return [0xc0 | (code >> 6), 0x80 | (code & 0x3f)];
  if (code < 0x10000) {
    // Lone surrogates encode as U+FFFD, as Buffer.from(string) does.
    if (code >= 0xd800 && code <= 0xdfff) return [0xef, 0xbf, 0xbd];
    return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)];
  }
  return [
    0xf0 | (code >> 18),
    0x80 | ((code >> 12) & 0x3f),
    0x80 | ((code >> 6) & 0x3f),
    0x80 | (code & 0x3f),
  ];
}
