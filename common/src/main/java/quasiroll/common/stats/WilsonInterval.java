package quasiroll.common.stats;

import org.apache.commons.math3.distribution.NormalDistribution;

/**
 * The Wilson score interval for a proportion (Wilson 1927).
 *
 * <p>Used for the mean of n independent values in [0, 1] (not only 0/1 outcomes): a value in [0, 1]
 * with mean p has variance at most p(1 - p), the Bernoulli variance, so the interval built from
 * that variance is conservative for such means. Unlike the normal (Wald) interval it does not
 * collapse to a point when every value is 0 or every value is 1.
 */
public final class WilsonInterval {
  private WilsonInterval() {}

  /**
   * @param mean the observed mean of n values in [0, 1]
   * @param n number of independent values, >= 1
   * @param level nominal two-sided coverage in (0, 1), e.g. 0.95
   */
  public static ConfidenceInterval of(double mean, int n, double level) {
    if (n < 1) {
      throw new IllegalArgumentException("Wilson interval needs n >= 1, got " + n);
    }
    if (!(mean >= 0 && mean <= 1)) {
      throw new IllegalArgumentException("Wilson interval needs a mean in [0, 1], got " + mean);
    }
    double z = zFor(level);
    double z2 = z * z;
    double denom = 1 + z2 / n;
    double centre = (mean + z2 / (2.0 * n)) / denom;
    double half = z / denom * Math.sqrt(mean * (1 - mean) / n + z2 / (4.0 * n * n));
    double lo = Math.max(0, centre - half);
    double hi = Math.min(1, centre + half);
    // Exactly-representable extremes: at mean 0 the lower end is 0, at mean 1 the upper is 1.
    if (mean == 0) {
      lo = 0;
    }
    if (mean == 1) {
      hi = 1;
    }
    return new ConfidenceInterval(mean, lo, hi, level);
  }

  /** The two-sided standard-normal quantile: 1.959964 for level 0.95. */
  static double zFor(double level) {
    if (!(level > 0 && level < 1)) {
      throw new IllegalArgumentException("confidence level " + level + " is not in (0, 1)");
    }
    return new NormalDistribution().inverseCumulativeProbability(0.5 + level / 2);
  }
}
