// Just enough JPEG reading for the photo test: the marker segments before the image data,
// the EXIF block (APP1 "Exif\0\0") and its GPS directory, and the frame size.

/** The segments before the scan: [{ marker, offset, data }] (data without the length field). */
export function segments(buf) {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) throw new Error("not a JPEG (no SOI marker)");
  const out = [];
  let i = 2;
  while (i + 4 <= buf.length) {
    if (buf[i] !== 0xff) throw new Error(`JPEG: expected a marker at byte ${i}`);
    const marker = buf[i + 1];
    if (marker === 0xff) { i += 1; continue; } // fill byte
    if (marker === 0xd9) break; // EOI
    if (marker >= 0xd0 && marker <= 0xd7) { i += 2; continue; }
    const length = buf.readUInt16BE(i + 2);
    out.push({ marker, offset: i, data: buf.subarray(i + 4, i + 2 + length) });
    if (marker === 0xda) break; // SOS: the entropy-coded data follows
    i += 2 + length;
  }
  return out;
}

const EXIF_HEADER = Buffer.from("Exif\0\0", "latin1");

/** The APP1 EXIF segments. */
export function exifSegments(buf) {
  return segments(buf).filter((s) => s.marker === 0xe1 && s.data.subarray(0, 6).equals(EXIF_HEADER));
}

/** Width and height from the SOF segment. */
export function frameSize(buf) {
  const sof = segments(buf).find((s) => s.marker >= 0xc0 && s.marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(s.marker));
  if (!sof) throw new Error("JPEG: no frame header");
  return { height: sof.data.readUInt16BE(1), width: sof.data.readUInt16BE(3) };
}

/**
 * Reads EXIF's IFD0 and, if IFD0 points to one (tag 0x8825), the GPS directory.
 * Returns { ifd0: Map(tag → entry), gps: Map(tag → entry) | null }; an entry is
 * { type, count, value } with ASCII values as strings and RATIONALs as numbers.
 */
export function readExif(segment) {
  const tiff = segment.data.subarray(6);
  const le = tiff.toString("latin1", 0, 2) === "II";
  const u16 = (o) => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const u32 = (o) => (le ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
  if (u16(2) !== 42) throw new Error("EXIF: bad TIFF header");
  const sizes = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8 };
  const ifd = (at) => {
    const entries = new Map();
    const n = u16(at);
    for (let k = 0; k < n; k++) {
      const e = at + 2 + 12 * k;
      const tag = u16(e), type = u16(e + 2), count = u32(e + 4);
      const size = (sizes[type] || 1) * count;
      const off = size <= 4 ? e + 8 : u32(e + 8);
      let value;
      if (type === 2) value = tiff.toString("latin1", off, off + count).replace(/\0+$/, "");
      else if (type === 3) value = u16(off);
      else if (type === 4) value = u32(off);
      else if (type === 5) value = Array.from({ length: count }, (_, j) => u32(off + 8 * j) / u32(off + 8 * j + 4));
      else value = tiff.subarray(off, off + size);
      entries.set(tag, { type, count, value });
    }
    return entries;
  };
  const ifd0 = ifd(u32(4));
  const gpsPointer = ifd0.get(0x8825);
  return { ifd0, gps: gpsPointer ? ifd(gpsPointer.value) : null };
}
