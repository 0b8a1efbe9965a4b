package quasiroll.common.stats;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Percentile bootstrap over prompts (Efron 1979): the prompts are resampled with replacement, the
 * statistic is recomputed on each resample, and the interval is the (1-level)/2 and (1+level)/2
 * quantiles of the recomputed values. With a fixed seed the interval is reproducible to the bit.
 * Used for statistics that are nonlinear functions of several curves over the same prompts (e.g.
 * samples saved), where every curve must see the SAME resampled prompts.
 */
public final class PromptBootstrap {
  /** Resamples used by the reports: enough for stable 95% percentile ends. */
  public static final int DEFAULT_RESAMPLES = 2000;

  private PromptBootstrap() {}

  /** A statistic of a weighted set of prompts; weights[j] = times prompt j was drawn. */
  @FunctionalInterface
  public interface Statistic {
    double apply(int[] weights);
  }

  /**
   * @param prompts number of prompts, >= 1
   */
  public static ConfidenceInterval percentile(
      int prompts, Statistic statistic, int resamples, long seed, double level) {
    if (prompts < 1 || resamples < 1) {
      throw new IllegalArgumentException("bootstrap needs >= 1 prompt and >= 1 resample");
    }
    int[] ones = new int[prompts];
    Arrays.fill(ones, 1);
    double estimate = statistic.apply(ones);
    SplittableRandom rng = new SplittableRandom(seed);
    double[] values = new double[resamples];
    int[] w = new int[prompts];
    for (int b = 0; b < resamples; b++) {
      Arrays.fill(w, 0);
      for (int j = 0; j < prompts; j++) {
        w[rng.nextInt(prompts)]++;
      }
      values[b] = statistic.apply(w);
    }
    Arrays.sort(values);
    double lo = quantile(values, (1 - level) / 2);
    double hi = quantile(values, (1 + level) / 2);
    return new ConfidenceInterval(estimate, Math.min(lo, hi), Math.max(lo, hi), level);
  }

  /** Weighted mean of per-prompt values. */
  public static double weightedMean(double[] perPrompt, int[] weights) {
    double s = 0;
    int n = 0;
    for (int j = 0; j < perPrompt.length; j++) {
      s += weights[j] * perPrompt[j];
      n += weights[j];
    }
    return s / n;
  }

  /** Linear-interpolation quantile of sorted values (type 7, as numpy's default). */
  static double quantile(double[] sorted, double q) {
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(sorted.length - 1, lo + 1);
    double f = pos - lo;
    return sorted[lo] + f * (sorted[hi] - sorted[lo]);
  }
}
