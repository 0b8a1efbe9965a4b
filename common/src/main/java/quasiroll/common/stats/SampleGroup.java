package quasiroll.common.stats;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * The k samples of one prompt from one job, by sample index: each sample's reward and its answer
 * (the text the verifier judged; equal answers are the same answer).
 */
public record SampleGroup(double[] rewards, String[] answers) {
  /** A sample passes when its reward is at least this (the API's pass threshold). */
  public static final double PASS_THRESHOLD = 1.0;

  public SampleGroup {
    Objects.requireNonNull(rewards, "rewards");
    Objects.requireNonNull(answers, "answers");
    if (rewards.length != answers.length || rewards.length == 0) {
      throw new IllegalArgumentException(
          "a group needs equally many rewards and answers, at least one; got "
              + rewards.length
              + " rewards and "
              + answers.length
              + " answers");
    }
    for (double r : rewards) {
      if (!Double.isFinite(r)) {
        throw new IllegalArgumentException("reward " + r + " is not finite");
      }
    }
  }

  public int size() {
    return rewards.length;
  }

  public static boolean passes(double reward) {
    return reward >= PASS_THRESHOLD;
  }

  /** Number of passing samples. */
  public int passCount() {
    int c = 0;
    for (double r : rewards) {
      c += passes(r) ? 1 : 0;
    }
    return c;
  }

  /** Some sample passed. */
  public boolean passed() {
    return passCount() > 0;
  }

  /** All rewards are equal: GRPO and RLOO advantages are all zero, the group teaches nothing. */
  public boolean zeroVariance() {
    return zeroVariance(rewards);
  }

  public static boolean zeroVariance(double[] rewards) {
    for (double r : rewards) {
      if (Double.compare(r, rewards[0]) != 0) {
        return false;
      }
    }
    return true;
  }

  /** Number of distinct answers. */
  public int distinctAnswers() {
    Set<String> seen = new HashSet<>(Arrays.asList(answers));
    return seen.size();
  }

  /** The sub-group of the given sample indices, in that order. */
  public SampleGroup subset(int[] indices) {
    double[] r = new double[indices.length];
    String[] a = new String[indices.length];
    for (int j = 0; j < indices.length; j++) {
      r[j] = rewards[indices[j]];
      a[j] = answers[indices[j]];
    }
    return new SampleGroup(r, a);
  }

  public double meanReward() {
    double s = 0;
    for (double r : rewards) {
      s += r;
    }
    return s / rewards.length;
  }
}
