package quasiroll.worker.runtime.cpu;

import quasiroll.worker.model.HalfFloats;

/**
 * IEEE 754 binary16 to float by table lookup: {@link HalfFloats#f16ToFloat} precomputed for all
 * 65536 bit patterns (256 KiB), a load instead of bit arithmetic in the F16 and Q8_0/Q4_0 scale
 * decoding loops.
 */
final class Half {
  private static final float[] TABLE = new float[1 << 16];

  static {
    for (int h = 0; h < TABLE.length; h++) {
      TABLE[h] = HalfFloats.f16ToFloat((short) h);
    }
  }

  private Half() {}

  static float toFloat(short bits) {
    return TABLE[bits & 0xffff];
  }
}
