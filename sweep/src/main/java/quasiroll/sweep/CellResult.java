package quasiroll.sweep;

import quasiroll.common.stats.ConfidenceInterval;
import quasiroll.common.stats.SubsetScheme;

/**
 * The estimates of one sweep cell (one row of results.csv). Every per-prompt estimate is unbiased
 * for that prompt (see {@link SubsetScheme}); the task-level values are means over prompts;
 * intervals are Wilson intervals over prompts ({@link quasiroll.common.stats.PromptMean}).
 *
 * @param scheme how groups of k were estimated from the groups drawn
 * @param runK the group size the cell's jobs ran at (>= k)
 * @param passAtK pass@k with its interval
 * @param meanReward mean reward per sample
 * @param zeroVariance fraction of groups of k whose rewards are all equal, with its interval
 * @param distinctAnswers mean number of distinct answers per group of k
 * @param unionBound mean over prompts of min(1, k p) with p the prompt's pass rate pooled over
 *     every sampler of the same model, task and temperature (all are marginally exact)
 * @param passRate this cell's pass@1 (fraction of passing samples)
 */
public record CellResult(
    CellKey cell,
    int prompts,
    int replicates,
    SubsetScheme scheme,
    int runK,
    ConfidenceInterval passAtK,
    double meanReward,
    ConfidenceInterval zeroVariance,
    double distinctAnswers,
    double unionBound,
    double passRate) {

  /**
   * pass@k as a fraction of the union bound: how close the sampler comes to the ceiling no
   * marginally exact sampler can beat in expectation (NaN when the bound is 0: no prompt ever
   * passed).
   */
  public double fractionOfUnionBound() {
    return unionBound > 0 ? passAtK.estimate() / unionBound : Double.NaN;
  }

  /** How the row was computed, for results.csv and the report. */
  public String estimatorDescription() {
    return switch (scheme) {
      case ALL_SUBSETS ->
          "iid all-subsets U-statistic from " + replicates + "x" + runK + " pooled samples";
      case STRIDE -> "lattice stride subsets of " + replicates + " groups of " + runK;
      case WHOLE_GROUP -> "mean over " + replicates + " groups of " + runK;
    };
  }
}
