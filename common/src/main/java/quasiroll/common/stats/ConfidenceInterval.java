package quasiroll.common.stats;

/**
 * A point estimate with a two-sided confidence interval.
 *
 * @param estimate the point estimate
 * @param lower lower end of the interval (lower <= upper)
 * @param upper upper end of the interval
 * @param level nominal coverage, e.g. 0.95
 */
public record ConfidenceInterval(double estimate, double lower, double upper, double level) {
  public ConfidenceInterval {
    if (!(lower <= upper)) {
      throw new IllegalArgumentException("interval [" + lower + ", " + upper + "] is empty");
    }
    if (!(level > 0 && level < 1)) {
      throw new IllegalArgumentException("confidence level " + level + " is not in (0, 1)");
    }
  }

  public boolean contains(double value) {
    return lower <= value && value <= upper;
  }

  public double width() {
    return upper - lower;
  }
}
