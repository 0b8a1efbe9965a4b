package quasiroll.common.qmc;

/**
 * The van der Corput sequence: the radical inverse of the point index. Point i of the base-2
 * sequence is bit-reverse(i) / 2^64 exactly, in natural (not Gray-code) order; for n = 2^m it is
 * the 1-D lattice {0, 1/n, ..., (n-1)/n} in bit-reversed order, and its first 2^j points are the
 * 2^j-point lattice (extensible). {@link #radicalInverse(int, long)} gives other bases.
 */
public final class VanDerCorput implements PointSet {
  private final int n;

  public VanDerCorput(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("van der Corput point count " + n + " must be >= 1");
    }
    this.n = n;
  }

  /** phi_2(i) as unsigned 64-bit fixed point: the bits of i mirrored about the binary point. */
  public static long radicalInverse2(long i) {
    return Long.reverse(i);
  }

  /** phi_b(i) = sum_k a_k b^(-k-1) for i = sum_k a_k b^k, as a double (base b >= 2, i >= 0). */
  public static double radicalInverse(int base, long i) {
    if (base < 2 || i < 0) {
      throw new IllegalArgumentException(
          "radical inverse needs base >= 2 and i >= 0, got base=" + base + " i=" + i);
    }
    double x = 0;
    double scale = 1.0 / base;
    while (i > 0) {
      x += (i % base) * scale;
      i /= base;
      scale /= base;
    }
    return x;
  }

  @Override
  public int numPoints() {
    return n;
  }

  @Override
  public int dimension() {
    return 1;
  }

  @Override
  public long coordinate(int i, int j) {
    checkIndex(i, j);
    return radicalInverse2(i);
  }

  @Override
  public boolean isDigitalNetBase2() {
    return true;
  }

  @Override
  public String describe() {
    return "van-der-corput n=" + n;
  }
}
