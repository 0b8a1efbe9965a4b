package quasiroll.common.qmc;

/**
 * The 1-D lattice {i/n : 0 <= i < n}: the point set behind the carried-code {@code lattice}
 * coupling (c_i = (i/n + shift) mod 1 with a {@link RandomShift}). Stride-s subsets {i = r, r+s,
 * ...} of a lattice with s | n are shifted lattices of n/s points, which is what lets a coordinator
 * shard a prompt's indices with strides and keep the structure.
 */
public final class OneDimLattice implements PointSet {
  private final int n;

  public OneDimLattice(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("lattice point count " + n + " must be >= 1");
    }
    this.n = n;
  }

  @Override
  public int numPoints() {
    return n;
  }

  @Override
  public int dimension() {
    return 1;
  }

  /** floor(i * 2^64 / n). */
  @Override
  public long coordinate(int i, int j) {
    checkIndex(i, j);
    return FixedPoint.fraction(i, n);
  }

  /** The double nearest i/n. */
  @Override
  public double coordinateDouble(int i, int j) {
    checkIndex(i, j);
    return (double) i / n;
  }

  @Override
  public String describe() {
    return "lattice n=" + n;
  }
}
