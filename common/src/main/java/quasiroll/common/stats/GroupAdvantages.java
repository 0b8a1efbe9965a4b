package quasiroll.common.stats;

/**
 * Per-sample advantages of one group of rewards, as RL trainers use them.
 *
 * <ul>
 *   <li>GRPO (Shao et al. 2024): {@code (r_i - mean) / (std + eps)} with the population standard
 *       deviation (divide by k) and eps = {@link #GRPO_EPS}.
 *   <li>RLOO (Ahmadian et al. 2024): {@code r_i - mean of the other k - 1 rewards}; 0 when k = 1
 *       (no other sample to form a baseline).
 * </ul>
 *
 * A zero-variance group ({@link SampleGroup#zeroVariance()}) gets all-zero advantages in both.
 */
public final class GroupAdvantages {
  /** The API's documented epsilon (GroupSummary.grpo_advantages). */
  public static final double GRPO_EPS = 1e-6;

  private GroupAdvantages() {}

  public static double[] grpo(double[] rewards) {
    int k = rewards.length;
    double mean = mean(rewards);
    double ss = 0;
    for (double r : rewards) {
      ss += (r - mean) * (r - mean);
    }
    double std = Math.sqrt(ss / k);
    double[] a = new double[k];
    for (int i = 0; i < k; i++) {
      a[i] = (rewards[i] - mean) / (std + GRPO_EPS);
    }
    return a;
  }

  public static double[] rloo(double[] rewards) {
    int k = rewards.length;
    if (k == 1) {
      return new double[] {0.0};
    }
    double sum = 0;
    for (double r : rewards) {
      sum += r;
    }
    double[] a = new double[k];
    for (int i = 0; i < k; i++) {
      a[i] = rewards[i] - (sum - rewards[i]) / (k - 1);
    }
    return a;
  }

  private static double mean(double[] x) {
    double s = 0;
    for (double v : x) {
      s += v;
    }
    return s / x.length;
  }
}
