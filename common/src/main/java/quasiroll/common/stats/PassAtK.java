package quasiroll.common.stats;

/**
 * pass@k for independent samples and the union bound that holds for every sampler.
 *
 * <p>All U-statistics here rest on one ratio, {@code C(m, k) / C(n, k)}: the probability that a
 * uniformly random k-subset of n items avoids n - m given items. A random k-subset of n i.i.d.
 * samples is itself k i.i.d. samples, so averaging a group statistic over all k-subsets is an
 * unbiased estimator of its value for a group of k (Chen et al. 2021 for pass@k).
 */
public final class PassAtK {
  private PassAtK() {}

  /**
   * Unbiased pass@k from n independent samples of which c passed: 1 - C(n-c, k)/C(n, k), computed
   * as a product (no factorials, no overflow).
   */
  public static double unbiased(int n, int c, int k) {
    checkCounts(n, c, k);
    return 1 - subsetAvoidProbability(n, n - c, k);
  }

  /**
   * C(m, k) / C(n, k) for 0 <= m <= n, 1 <= k <= n: the probability that a random k-subset of n
   * items lies inside a given m of them; exactly 0 when m < k.
   */
  public static double subsetAvoidProbability(int n, int m, int k) {
    if (m < 0 || m > n || k < 1 || k > n) {
      throw new IllegalArgumentException(
          "C(m, k)/C(n, k) needs 0 <= m <= n and 1 <= k <= n; got n=" + n + " m=" + m + " k=" + k);
    }
    if (m < k) {
      return 0;
    }
    // C(m,k)/C(n,k) = m! (n-k)! / ((m-k)! n!) = prod_{i=m+1}^{n} (i - k) / i: n - m factors,
    // each in [0, 1), so the product neither overflows nor loses relative precision.
    double r = 1;
    for (int i = m + 1; i <= n; i++) {
      r *= 1 - (double) k / i;
    }
    return r;
  }

  /**
   * The union bound pass@k <= min(1, k p) for one prompt whose single-sample success probability is
   * p. It holds for ANY sampler whose samples are marginally exact (each sample is a draw from the
   * model), coupled or not.
   */
  public static double unionBound(int k, double p) {
    if (k < 1 || !(p >= 0 && p <= 1)) {
      throw new IllegalArgumentException(
          "union bound needs k >= 1 and p in [0, 1]; got k=" + k + " p=" + p);
    }
    return Math.min(1, k * p);
  }

  private static void checkCounts(int n, int c, int k) {
    if (n < 1 || c < 0 || c > n || k < 1 || k > n) {
      throw new IllegalArgumentException(
          "pass@k needs 1 <= k <= n and 0 <= c <= n; got n=" + n + " c=" + c + " k=" + k);
    }
  }
}
