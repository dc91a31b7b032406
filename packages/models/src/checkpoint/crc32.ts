/** CRC-32 (IEEE 802.3, as in zip/PNG), so a flipped bit anywhere in a weights file is detected on load. */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 over one or several buffers taken in order (a tf.io WeightData may be split), continuing from `crc` (0 to
 * start), so a stream can be checked piece by piece. Also the zip packs' CRC (@dapple/contracts/upload-zip).
 */
export function crc32(data: ArrayBuffer | ArrayBuffer[] | Uint8Array, crc = 0): number {
  const parts =
    data instanceof Uint8Array ? [data] : (Array.isArray(data) ? data : [data]).map((b) => new Uint8Array(b));
  let c = ~crc >>> 0;
  for (const bytes of parts) {
    for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  }
  return ~c >>> 0;
}
