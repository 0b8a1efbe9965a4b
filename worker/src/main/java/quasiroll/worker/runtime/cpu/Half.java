package quasiroll.worker.runtime.cpu;

/**
 * IEEE 754 binary16 to float conversion by table lookup (Java 17 has no
 * {@code Float.float16ToFloat}). The table holds all 65536 values, so the conversion is exact
 * for normals, subnormals, infinities and NaNs alike.
 */
final class Half {
  private static final float[] TABLE = new float[1 << 16];

  static {
    for (int h = 0; h < TABLE.length; h++) {
      TABLE[h] = convert((short) h);
    }
  }

  private Half() {}

  static float toFloat(short bits) {
    return TABLE[bits & 0xffff];
  }

  /** The bit-level conversion the table is built from (kept for tests). */
  static float convert(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      // Subnormal (or zero): mant * 2^-24, exact in float.
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }
}
