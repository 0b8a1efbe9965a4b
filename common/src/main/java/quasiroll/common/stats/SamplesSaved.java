package quasiroll.common.stats;

/**
 * "Samples saved": how many independent samples an i.i.d. sampler needs to reach the pass@k that a
 * coupled sampler reaches with k, and the fraction {@code 1 - k / k_iid} this saves.
 *
 * <p>k_iid is read off the i.i.d. pass@k curve by linear interpolation in log k between the two
 * curve points that bracket the coupled value (curve points are typically every integer k from 1 to
 * n, from the unbiased estimator on n i.i.d. samples). When the coupled value lies outside the
 * curve's range, k_iid is only bounded: {@link Bound#ABOVE_RANGE} means the i.i.d. sampler does not
 * reach it within the largest k measured (k_iid > that k, so the true saving is larger than
 * reported); {@link Bound#BELOW_RANGE} means the coupled value is below i.i.d. pass at the smallest
 * k.
 *
 * <p>The confidence interval is a percentile bootstrap over prompts ({@link PromptBootstrap}),
 * resampling the SAME prompts for both curves (the comparison is paired); a resample whose k_iid
 * falls outside the range uses the range end, so an interval end that touches {@code 1 - k / max k}
 * is itself only a bound. A coupled pass@k of exactly 1 is {@link Bound#SATURATED}: nothing is
 * estimated.
 */
public final class SamplesSaved {
  private SamplesSaved() {}

  public enum Bound {
    EXACT,
    BELOW_RANGE,
    ABOVE_RANGE,
    /**
     * The coupled pass@k is 1: every prompt passed in every group. Any sampler that also reaches 1
     * matches it, and where the finite-sample i.i.d. curve first touches 1 says nothing about the
     * sampler, so no saving is reported.
     */
    SATURATED
  }

  /** The i.i.d.-equivalent group size, or the range end it lies beyond. */
  public record Match(double iidK, Bound bound) {}

  /** What limits a result: nothing, or which part of it is only a bound and why. */
  public enum Censoring {
    /** Point estimate and both interval ends are measured. */
    NONE,
    /**
     * The point estimate is measured, but so many bootstrap resamples fall past the i.i.d. curve's
     * largest k that the interval's upper end is the cap 1 - k / max k: only a lower bound on the
     * upper end an uncensored baseline would give.
     */
    UPPER_END,
    /**
     * i.i.d. does not reach the coupled pass@k within its largest k: the estimate is a lower bound.
     */
    ESTIMATE,
    /**
     * The coupled pass@k is below i.i.d. pass at the smallest k: the estimate is an upper bound.
     */
    BELOW,
    /** The coupled pass@k is 1: nothing is estimated. */
    SATURATED
  }

  /**
   * @param k the coupled group size
   * @param coupledPass task-level coupled pass@k
   * @param iidEquivalentK k_iid (a bound unless {@code bound} is EXACT)
   * @param savedFraction 1 - k / k_iid with its bootstrap interval; null when {@link
   *     Bound#SATURATED}
   * @param iidMaxK the largest k of the i.i.d. curve (the cap on k_iid)
   * @param resamplesAboveRange fraction of bootstrap resamples whose k_iid lay past iidMaxK
   */
  public record Result(
      int k,
      double coupledPass,
      double iidEquivalentK,
      Bound bound,
      ConfidenceInterval savedFraction,
      int iidMaxK,
      double resamplesAboveRange) {

    /** Which part of this result is censored (see {@link Censoring}). */
    public Censoring censoring() {
      if (bound == Bound.SATURATED) {
        return Censoring.SATURATED;
      }
      if (bound == Bound.ABOVE_RANGE) {
        return Censoring.ESTIMATE;
      }
      if (bound == Bound.BELOW_RANGE) {
        return Censoring.BELOW;
      }
      double cap = 1 - (double) k / iidMaxK;
      return resamplesAboveRange > 0 && savedFraction.upper() >= cap - 1e-12
          ? Censoring.UPPER_END
          : Censoring.NONE;
    }
  }

  /**
   * Where the non-decreasing curve {@code (ks[i], pass[i])}, ks ascending and positive, first
   * reaches {@code target}, interpolating linearly in log k.
   */
  public static Match iidEquivalentK(int[] ks, double[] pass, double target) {
    if (ks.length == 0 || ks.length != pass.length) {
      throw new IllegalArgumentException(
          "the i.i.d. curve needs equally many k and pass values, >= 1");
    }
    for (int i = 0; i < ks.length; i++) {
      if (pass[i] >= target) {
        if (i == 0) {
          return new Match(ks[0], pass[0] == target ? Bound.EXACT : Bound.BELOW_RANGE);
        }
        double y0 = pass[i - 1];
        double y1 = pass[i];
        double t = (target - y0) / (y1 - y0);
        double logK = Math.log(ks[i - 1]) + t * (Math.log(ks[i]) - Math.log(ks[i - 1]));
        return new Match(Math.exp(logK), Bound.EXACT);
      }
    }
    return new Match(ks[ks.length - 1], Bound.ABOVE_RANGE);
  }

  /**
   * @param k coupled group size
   * @param coupledPerPrompt per-prompt coupled pass@k estimates
   * @param iidKs ascending k values of the i.i.d. curve
   * @param iidPerPrompt iidPerPrompt[j][i] = prompt j's i.i.d. pass@iidKs[i]
   */
  public static Result estimate(
      int k,
      double[] coupledPerPrompt,
      int[] iidKs,
      double[][] iidPerPrompt,
      int resamples,
      long seed,
      double level) {
    int prompts = coupledPerPrompt.length;
    if (prompts == 0 || iidPerPrompt.length != prompts) {
      throw new IllegalArgumentException(
          "samples saved needs the same prompts for both samplers; got "
              + prompts
              + " coupled and "
              + iidPerPrompt.length
              + " i.i.d.");
    }
    int[] ones = new int[prompts];
    java.util.Arrays.fill(ones, 1);
    double coupled = PromptBootstrap.weightedMean(coupledPerPrompt, ones);
    int maxK = iidKs[iidKs.length - 1];
    if (coupled >= 1.0) {
      return new Result(k, coupled, Double.NaN, Bound.SATURATED, null, maxK, 0);
    }
    Match point = iidEquivalentK(iidKs, curve(iidPerPrompt, iidKs.length, ones), coupled);
    // percentile() applies the statistic once to the full sample, then once per resample.
    int[] calls = {0};
    int[] above = {0};
    ConfidenceInterval ci =
        PromptBootstrap.percentile(
            prompts,
            w -> {
              double c = PromptBootstrap.weightedMean(coupledPerPrompt, w);
              Match m = iidEquivalentK(iidKs, curve(iidPerPrompt, iidKs.length, w), c);
              if (calls[0]++ > 0 && m.bound() == Bound.ABOVE_RANGE) {
                above[0]++;
              }
              return 1 - k / m.iidK();
            },
            resamples,
            seed,
            level);
    return new Result(
        k, coupled, point.iidK(), point.bound(), ci, maxK, (double) above[0] / resamples);
  }

  private static double[] curve(double[][] perPrompt, int points, int[] weights) {
    double[] c = new double[points];
    int n = 0;
    for (int j = 0; j < perPrompt.length; j++) {
      if (weights[j] == 0) {
        continue;
      }
      n += weights[j];
      for (int i = 0; i < points; i++) {
        c[i] += weights[j] * perPrompt[j][i];
      }
    }
    for (int i = 0; i < points; i++) {
      c[i] /= n;
    }
    return c;
  }
}
