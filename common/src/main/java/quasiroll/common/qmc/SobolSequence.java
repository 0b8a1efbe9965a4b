package quasiroll.common.qmc;

/**
 * The first n points of the Sobol' sequence in d <= 1000 dimensions with Joe-Kuo direction numbers
 * ({@link JoeKuoDirectionNumbers}), in Gray-code order: point i is the xor of the direction numbers
 * selected by the bits of gray(i) = i ^ (i >>> 1). This is exactly the sequence
 * scipy.stats.qmc.Sobol(d, scramble=False) returns, starting at the origin.
 *
 * <p>Properties relied on: for n = 2^m the set is a digital (t, m, d)-net in base 2 (t = 0 in the
 * first two dimensions), and it is extensible: the first 2^m points of the 2^(m+1) set are the 2^m
 * set, so any prefix of a power-of-two size is itself a net. Coordinates have at most {@value
 * JoeKuoDirectionNumbers#BITS} significant bits.
 */
public final class SobolSequence implements PointSet {
  public static final int MAX_DIMENSION = JoeKuoDirectionNumbers.MAX_DIMENSION;

  private final int n;
  private final int d;

  public SobolSequence(int n, int d) {
    if (n < 1) {
      throw new IllegalArgumentException("Sobol' point count " + n + " must be >= 1");
    }
    if (d < 1 || d > MAX_DIMENSION) {
      throw new IllegalArgumentException(
          "Sobol' dimension " + d + " outside [1, " + MAX_DIMENSION + "]");
    }
    this.n = n;
    this.d = d;
    JoeKuoDirectionNumbers.directions(); // fail early if the resource is missing
  }

  @Override
  public int numPoints() {
    return n;
  }

  @Override
  public int dimension() {
    return d;
  }

  @Override
  public long coordinate(int i, int j) {
    checkIndex(i, j);
    return coordinateUnchecked(i, j);
  }

  /** Coordinate j of Sobol' point i for any i >= 0, without the n bound (i < 2^31). */
  static long coordinateUnchecked(int i, int j) {
    long[] vj = JoeKuoDirectionNumbers.directions()[j];
    int g = i ^ (i >>> 1);
    long x = 0;
    while (g != 0) {
      x ^= vj[Integer.numberOfTrailingZeros(g)];
      g &= g - 1;
    }
    return x;
  }

  @Override
  public boolean isDigitalNetBase2() {
    return true;
  }

  @Override
  public String describe() {
    return "sobol n=" + n + " d=" + d;
  }
}
