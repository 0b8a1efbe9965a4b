package quasiroll.common.stats;

/**
 * Estimated statistics of ONE prompt's group of k samples under one sampler: each is the
 * expectation over the sampler's randomization, estimated without bias by {@link GroupEstimator}.
 *
 * @param k the group size the estimates are for
 * @param passAtK probability that some sample of the group passes
 * @param distinctAnswers expected number of distinct answers in the group
 * @param zeroVarianceProbability probability that all k rewards are equal
 * @param meanReward mean reward of a sample
 * @param passRate probability that a single sample passes (pass@1)
 */
public record GroupEstimates(
    int k,
    double passAtK,
    double distinctAnswers,
    double zeroVarianceProbability,
    double meanReward,
    double passRate) {}
