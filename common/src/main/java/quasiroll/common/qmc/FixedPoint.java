package quasiroll.common.qmc;

/**
 * Coordinates of quasiroll point sets are unsigned 64-bit fixed-point numbers: the long x
 * stands for x / 2^64 in [0, 1). Integer coordinates make randomizations exact: a random
 * shift mod 1 is a wrapping add, a digital shift an xor, and a uniform 64-bit shift makes
 * every coordinate exactly uniform on the 2^64 grid whatever the point was.
 */
public final class FixedPoint {
  private FixedPoint() {}

  /** x / 2^64 truncated to 53 bits, so the result is in [0, 1) and never rounds up to 1. */
  public static double toDouble(long x) {
    return (x >>> 11) * 0x1.0p-53;
  }

  /**
   * floor((hi * 2^64 + lo) / n) for 0 <= hi < n <= 2^31 - 1, where lo is unsigned; the result
   * is below 2^64 because hi < n. Long division by 32-bit digits: every partial remainder is
   * below n < 2^31, so (remainder << 32 | digit) fits a non-negative long.
   */
  public static long divide(long hi, long lo, int n) {
    if (n <= 0 || hi < 0 || hi >= n) {
      throw new IllegalArgumentException("divide needs 0 <= hi < n, got hi=" + hi + " n=" + n);
    }
    long t = (hi << 32) | (lo >>> 32);
    long q1 = t / n;
    long r = t % n;
    t = (r << 32) | (lo & 0xFFFFFFFFL);
    long q0 = t / n;
    return (q1 << 32) | q0;
  }

  /** floor(r * 2^64 / n) for 0 <= r < n: the fixed-point value of the fraction r/n. */
  public static long fraction(long r, int n) {
    return divide(r, 0L, n);
  }
}
