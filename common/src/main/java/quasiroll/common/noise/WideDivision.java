package quasiroll.common.noise;

/**
 * Exact division of a 96-bit unsigned integer by a divisor of at most 2^32, the one piece of wide
 * arithmetic the carried codes need (Java has no unsigned 128-bit type).
 */
public final class WideDivision {
  private static final long MASK32 = 0xFFFF_FFFFL;
  private static final long TWO_32 = 1L << 32;

  private WideDivision() {}

  /**
   * floor((hi * 2^64 + mid * 2^32 + lo) / d), for 32-bit digits mid and lo, 1 <= d <= 2^32 and 0 <=
   * hi < d; under those conditions the quotient is below 2^64 and is returned as an unsigned long.
   * Schoolbook long division in base 2^32: every partial dividend (remainder * 2^32 + digit) is
   * below d * 2^32 <= 2^64, so {@link Long#divideUnsigned} computes each quotient digit exactly.
   */
  public static long divide96(long hi, long mid, long lo, long d) {
    if (d < 1 || d > TWO_32 || hi < 0 || hi >= d || (mid & ~MASK32) != 0 || (lo & ~MASK32) != 0) {
      throw new IllegalArgumentException(
          "divide96 needs 1 <= d <= 2^32, 0 <= hi < d, 32-bit mid/lo; got hi="
              + hi
              + " mid="
              + mid
              + " lo="
              + lo
              + " d="
              + d);
    }
    if (d == TWO_32) {
      return (hi << 32) | mid;
    }
    long a = (hi << 32) | mid;
    long q1 = Long.divideUnsigned(a, d);
    long r = Long.remainderUnsigned(a, d);
    a = (r << 32) | lo;
    long q0 = Long.divideUnsigned(a, d);
    return (q1 << 32) | q0;
  }
}
