package quasiroll.common.stats;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Estimates one prompt's group statistics at group size k from the groups actually drawn
 * (independent replicates, each of the same size K), under a {@link SubsetScheme}. Every estimate
 * is unbiased for its expectation over the sampler's randomization.
 */
public final class GroupEstimator {
  private GroupEstimator() {}

  /**
   * Whether {@code scheme} can estimate group size k from groups of size K (for ALL_SUBSETS, K may
   * be the pooled size of all replicates).
   */
  public static boolean canDerive(SubsetScheme scheme, int groupSize, int k) {
    if (k < 1 || k > groupSize) {
      return false;
    }
    return switch (scheme) {
      case ALL_SUBSETS -> true;
      case STRIDE -> isPowerOfTwo(groupSize) && isPowerOfTwo(k);
      case WHOLE_GROUP -> k == groupSize;
    };
  }

  public static GroupEstimates estimate(List<SampleGroup> replicates, int k, SubsetScheme scheme) {
    if (replicates.isEmpty()) {
      throw new IllegalArgumentException("no groups to estimate from");
    }
    int groupSize = replicates.get(0).size();
    for (SampleGroup g : replicates) {
      if (g.size() != groupSize) {
        throw new IllegalArgumentException(
            "replicate groups differ in size: " + groupSize + " and " + g.size());
      }
    }
    // ALL_SUBSETS pools the replicates: any k up to the total sample count is estimable.
    int available = scheme == SubsetScheme.ALL_SUBSETS ? groupSize * replicates.size() : groupSize;
    if (!canDerive(scheme, available, k)) {
      throw new IllegalArgumentException(
          "scheme "
              + scheme
              + " cannot estimate groups of "
              + k
              + " from groups of "
              + groupSize
              + (scheme == SubsetScheme.STRIDE ? " (both must be powers of two, k <= K)" : ""));
    }
    return switch (scheme) {
      case ALL_SUBSETS -> allSubsets(pool(replicates), k);
      case STRIDE -> averageOverReplicates(replicates, k, true);
      case WHOLE_GROUP -> averageOverReplicates(replicates, k, false);
    };
  }

  /** The U-statistic of {@link SubsetScheme#ALL_SUBSETS} over one pooled group of n samples. */
  static GroupEstimates allSubsets(SampleGroup all, int k) {
    int n = all.size();
    int c = all.passCount();
    Map<String, Integer> answerCounts = new HashMap<>();
    for (String a : all.answers()) {
      answerCounts.merge(a, 1, Integer::sum);
    }
    double distinct = 0;
    for (int m : answerCounts.values()) {
      distinct += 1 - PassAtK.subsetAvoidProbability(n, n - m, k);
    }
    Map<Double, Integer> rewardCounts = new HashMap<>();
    for (double r : all.rewards()) {
      rewardCounts.merge(r, 1, Integer::sum);
    }
    double zeroVar = 0;
    for (int m : rewardCounts.values()) {
      zeroVar += PassAtK.subsetAvoidProbability(n, m, k);
    }
    // The probabilities summed over reward values add up to 1 at k = 1 and may round past it.
    zeroVar = Math.min(1.0, zeroVar);
    return new GroupEstimates(
        k, PassAtK.unbiased(n, c, k), distinct, zeroVar, all.meanReward(), (double) c / n);
  }

  private static GroupEstimates averageOverReplicates(
      List<SampleGroup> replicates, int k, boolean strideSubsets) {
    double pass = 0;
    double distinct = 0;
    double zeroVar = 0;
    double reward = 0;
    double passRate = 0;
    int terms = 0;
    for (SampleGroup g : replicates) {
      int stride = strideSubsets ? g.size() / k : 1;
      for (int r = 0; r < stride; r++) {
        int[] idx = new int[k];
        for (int m = 0; m < k; m++) {
          idx[m] = r + m * stride;
        }
        SampleGroup sub = g.subset(idx);
        pass += sub.passed() ? 1 : 0;
        distinct += sub.distinctAnswers();
        zeroVar += sub.zeroVariance() ? 1 : 0;
        terms++;
      }
      reward += g.meanReward();
      passRate += (double) g.passCount() / g.size();
    }
    int reps = replicates.size();
    return new GroupEstimates(
        k, pass / terms, distinct / terms, zeroVar / terms, reward / reps, passRate / reps);
  }

  private static SampleGroup pool(List<SampleGroup> groups) {
    if (groups.size() == 1) {
      return groups.get(0);
    }
    int n = groups.stream().mapToInt(SampleGroup::size).sum();
    double[] r = new double[n];
    String[] a = new String[n];
    int at = 0;
    for (SampleGroup g : groups) {
      System.arraycopy(g.rewards(), 0, r, at, g.size());
      System.arraycopy(g.answers(), 0, a, at, g.size());
      at += g.size();
    }
    return new SampleGroup(r, a);
  }

  static boolean isPowerOfTwo(int x) {
    return x > 0 && (x & (x - 1)) == 0;
  }
}
