package quasiroll.coordinator.job;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import quasiroll.common.stats.GroupAdvantages;
import quasiroll.common.stats.SampleGroup;
import quasiroll.v1.GroupSummary;
import quasiroll.v1.SampleResult;

/**
 * The summary of one complete group (all k samples of a prompt), as RL trainers use it:
 *
 * <ul>
 *   <li>pass: some reward >= {@link SampleGroup#PASS_THRESHOLD};
 *   <li>zero variance: all k rewards equal (the group gives GRPO no signal);
 *   <li>GRPO advantage (r_i - mean) / (std + 1e-6) and RLOO advantage r_i - mean of the other k-1
 *       rewards (0 when k = 1), both from {@link GroupAdvantages};
 *   <li>distinct answers: distinct generated texts.
 * </ul>
 *
 * Without a verifier the reward lists are empty, pass and zero variance false.
 */
public final class GroupStatistics {

  private GroupStatistics() {}

  /**
   * @param byIndex the k samples in index order, rewards set iff the prompt has a verifier
   */
  public static GroupSummary summarize(String jobId, String promptId, List<SampleResult> byIndex) {
    int k = byIndex.size();
    GroupSummary.Builder g =
        GroupSummary.newBuilder().setJobId(jobId).setPromptId(promptId).setK(k);
    Set<String> texts = HashSet.newHashSet(k); // sized once: no rehashing as it fills
    for (SampleResult r : byIndex) {
      texts.add(r.getText());
    }
    g.setDistinctAnswers(texts.size());
    if (k == 0 || !byIndex.get(0).hasReward()) {
      return g.build();
    }
    double[] r = new double[k];
    boolean pass = false;
    for (int i = 0; i < k; i++) {
      r[i] = byIndex.get(i).getReward();
      pass |= SampleGroup.passes(r[i]);
      g.addRewards(r[i]);
    }
    for (double a : GroupAdvantages.grpo(r)) {
      g.addGrpoAdvantages(a);
    }
    for (double a : k == 1 ? new double[1] : GroupAdvantages.rloo(r)) {
      g.addRlooAdvantages(a);
    }
    return g.setPass(pass).setZeroVariance(SampleGroup.zeroVariance(r)).build();
  }
}
