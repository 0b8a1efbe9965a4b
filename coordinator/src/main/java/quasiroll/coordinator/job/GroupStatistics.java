package quasiroll.coordinator.job;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import quasiroll.v1.GroupSummary;
import quasiroll.v1.SampleResult;

/**
 * The summary of one complete group (all k samples of a prompt), as RL trainers use it:
 * <ul>
 *   <li>pass: some reward >= {@value #PASS_THRESHOLD};
 *   <li>zero variance: all k rewards equal (the group gives GRPO no signal);
 *   <li>GRPO advantage (r_i - mean) / (std + 1e-6), std the population standard deviation;
 *   <li>RLOO advantage r_i - mean of the other k-1 rewards (0 when k = 1);
 *   <li>distinct answers: distinct generated texts.
 * </ul>
 * Without a verifier the reward lists are empty, pass and zero variance false.
 */
public final class GroupStatistics {
  public static final double PASS_THRESHOLD = 1.0;
  private static final double STD_EPS = 1e-6;

  private GroupStatistics() {}

  /** @param byIndex the k samples in index order, rewards set iff the prompt has a verifier */
  public static GroupSummary summarize(String jobId, String promptId, List<SampleResult> byIndex) {
    int k = byIndex.size();
    GroupSummary.Builder g = GroupSummary.newBuilder().setJobId(jobId).setPromptId(promptId).setK(k);
    Set<String> texts = new HashSet<>();
    for (SampleResult r : byIndex) {
      texts.add(r.getText());
    }
    g.setDistinctAnswers(texts.size());
    if (k == 0 || !byIndex.get(0).hasReward()) {
      return g.build();
    }
    double[] r = new double[k];
    double sum = 0;
    boolean pass = false;
    for (int i = 0; i < k; i++) {
      r[i] = byIndex.get(i).getReward();
      sum += r[i];
      pass |= r[i] >= PASS_THRESHOLD;
      g.addRewards(r[i]);
    }
    double mean = sum / k;
    double ss = 0;
    boolean allEqual = true;
    for (int i = 0; i < k; i++) {
      ss += (r[i] - mean) * (r[i] - mean);
      allEqual &= r[i] == r[0];
    }
    double std = Math.sqrt(ss / k);
    for (int i = 0; i < k; i++) {
      g.addGrpoAdvantages((r[i] - mean) / (std + STD_EPS));
      g.addRlooAdvantages(k == 1 ? 0.0 : r[i] - (sum - r[i]) / (k - 1));
    }
    return g.setPass(pass).setZeroVariance(allEqual).build();
  }
}
