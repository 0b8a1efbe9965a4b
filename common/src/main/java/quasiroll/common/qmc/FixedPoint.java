package quasiroll.common.qmc;

import quasiroll.common.noise.WideDivision;

/**
 * Coordinates of quasiroll point sets are unsigned 64-bit fixed-point numbers: the long x stands
 * for x / 2^64 in [0, 1). Integer coordinates make randomizations exact: a random shift mod 1 is a
 * wrapping add, a digital shift an xor, and a uniform 64-bit shift makes every coordinate exactly
 * uniform on the 2^64 grid whatever the point was.
 */
public final class FixedPoint {
  private FixedPoint() {}

  /** x / 2^64 truncated to 53 bits, so the result is in [0, 1) and never rounds up to 1. */
  public static double toDouble(long x) {
    return (x >>> 11) * 0x1.0p-53;
  }

  /** floor(r * 2^64 / n) for 0 <= r < n: the fixed-point value of the fraction r/n. */
  public static long fraction(long r, int n) {
    return WideDivision.divide96(r, 0, 0, n);
  }
}
