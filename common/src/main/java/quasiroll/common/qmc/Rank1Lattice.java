package quasiroll.common.qmc;

import java.util.Arrays;

/**
 * A rank-1 lattice: point i is x_i = frac(i * z / n) for a generating vector z (one integer per
 * dimension, coprime to n so every 1-D projection is the full lattice {0, 1/n, ...}). {@link
 * #cbc(int, int)} builds one with z from {@link CbcConstruction}.
 *
 * <p>Sub-lattices: for s | n, the stride-s subset {i = r, r + s, ...} is the n/s-point lattice with
 * generating vector z mod (n/s), shifted by frac(r z / n); so strided shards of a randomly shifted
 * lattice are randomly shifted lattices. The CBC criterion optimizes z for n itself only, so those
 * sub-lattices are valid but not separately optimized.
 */
public final class Rank1Lattice implements PointSet {
  private final int n;
  private final int[] z;

  public Rank1Lattice(int n, int[] z) {
    if (n < 1) {
      throw new IllegalArgumentException("rank-1 lattice point count " + n + " must be >= 1");
    }
    if (z.length < 1) {
      throw new IllegalArgumentException("rank-1 lattice needs at least one dimension");
    }
    this.n = n;
    this.z = z.clone();
    for (int j = 0; j < z.length; j++) {
      if (this.z[j] < 0 || this.z[j] >= Math.max(n, 2)) {
        throw new IllegalArgumentException(
            "generating vector entry z[" + j + "]=" + z[j] + " outside [0, " + n + ")");
      }
    }
  }

  /** The lattice with the CBC generating vector for n points in d dimensions. */
  public static Rank1Lattice cbc(int n, int d) {
    return new Rank1Lattice(n, CbcConstruction.generatingVector(n, d));
  }

  public int[] generatingVector() {
    return z.clone();
  }

  @Override
  public int numPoints() {
    return n;
  }

  @Override
  public int dimension() {
    return z.length;
  }

  private long residue(int i, int j) {
    return ((long) i * z[j]) % n;
  }

  /** floor(((i z_j) mod n) * 2^64 / n). */
  @Override
  public long coordinate(int i, int j) {
    checkIndex(i, j);
    return FixedPoint.fraction(residue(i, j), n);
  }

  /** The double nearest frac(i z_j / n). */
  @Override
  public double coordinateDouble(int i, int j) {
    checkIndex(i, j);
    return (double) residue(i, j) / n;
  }

  @Override
  public String describe() {
    return "rank1 n="
        + n
        + " d="
        + z.length
        + " z="
        + Arrays.toString(Arrays.copyOf(z, Math.min(z.length, 8)))
        + (z.length > 8 ? "..." : "");
  }
}
