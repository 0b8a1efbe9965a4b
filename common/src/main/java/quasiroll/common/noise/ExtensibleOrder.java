package quasiroll.common.noise;

import quasiroll.common.error.BadInputException;

/**
 * The order in which a group that starts with k samples and may grow to k·2, k·4, ... up to an
 * extent N = k·2^G visits the points of an N-point lattice, so that every prefix of a size it can
 * stop at is itself the lattice of that size.
 *
 * <p>Sample j gets the fraction num(j)/den(j): for j < k it is j/k; for k·2^(L-1) <= j < k·2^L it
 * is (2m+1)/(k·2^L) with m = j − k·2^(L-1), i.e. the odd multiples of 1/(k·2^L), the points that
 * halve every gap of the previous size. By induction the first k·2^L samples are exactly {i/(k·2^L)
 * : 0 <= i < k·2^L}: a grown lattice group is, as a set, a fresh lattice group of the grown size,
 * and nothing already drawn is wasted. (Hickernell et al., "Extensible lattice sequences for
 * quasi-Monte Carlo quadrature", SIAM J. Sci. Comput. 2000, order their points by the van der
 * Corput radical inverse to the same end; this order is that one within each level.)
 *
 * <p>Sampler option {@link #OPTION} = N asks for this order; the coordinator sets it for jobs with
 * {@code zero_variance: GROW}.
 */
public final class ExtensibleOrder {
  /** Sampler option naming the largest group size N a group may grow to. */
  public static final String OPTION = "extensible_to";

  private ExtensibleOrder() {}

  /** {num, den} of sample j's lattice fraction, with den = k·2^L the smallest level holding j. */
  public static long[] fraction(int j, int k) {
    if (k < 1 || j < 0) {
      throw new IllegalArgumentException("sample " + j + " of base size " + k);
    }
    if (j < k) {
      return new long[] {j, k};
    }
    long level = k;
    while (j >= level * 2) {
      level *= 2;
    }
    long m = j - level;
    return new long[] {2 * m + 1, level * 2};
  }

  /**
   * The extent N of a spec's options, checked against k: N = k·2^G for some G >= 0.
   *
   * @return N, or k when the option is absent (the group cannot grow)
   */
  public static int extent(java.util.Map<String, String> options, int k) {
    String raw = options.get(OPTION);
    if (raw == null) {
      return k;
    }
    long n;
    try {
      n = Long.parseLong(raw.trim());
    } catch (NumberFormatException e) {
      throw new BadInputException(
          "sampler option " + OPTION + "=" + raw + " is not an integer: expected k·2^g");
    }
    long size = k;
    while (size < n) {
      size *= 2;
    }
    if (size != n || n > Integer.MAX_VALUE / 2) {
      throw new BadInputException(
          "sampler option "
              + OPTION
              + "="
              + raw
              + " is not k·2^g for k="
              + k
              + " (accepted: "
              + k
              + ", "
              + 2L * k
              + ", "
              + 4L * k
              + ", ...)");
    }
    return (int) n;
  }
}
