/**
 * CRC-32 (ISO-HDLC, polynomial 0xEDB88320 reflected), the checksum ZIP stores per entry (APPNOTE 4.4.7).
 *
 * @module
 */

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Incremental CRC-32: feed chunks with `update`, read the unsigned 32-bit value with `value`. */
export class Crc32 {
  #c = 0xffffffff;

  /** Adds `data` to the checksum. */
  update(data: Uint8Array): this {
    let c = this.#c;
    for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
    this.#c = c;
    return this;
  }

  /** The checksum so far, as an unsigned 32-bit integer. */
  value(): number {
    return (this.#c ^ 0xffffffff) >>> 0;
  }
}

/** CRC-32 of `data` as an unsigned 32-bit integer (crc32("123456789") = 0xCBF43926). */
export function crc32(data: Uint8Array): number {
  return new Crc32().update(data).value();
}
