package quasiroll.worker.engine;

import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SamplerSpec;

/**
 * One shard: some of the k sample indices of one prompt. Everything a worker needs; the
 * noise of each index is a pure function of (jobSeed, promptId, index, position), so any
 * split of the k indices across shards yields the same samples.
 *
 * @param promptTokens pre-tokenized prompt, or null to tokenize {@code promptText}
 * @param indices the sample indices of this shard, each in [0, k)
 * @param policyVersion the policy version whose weights must decode it (0 = the weights
 *     loaded at start); a runner that holds one version only ignores it
 */
public record ShardRequest(
    String jobId,
    String promptId,
    String promptText,
    int[] promptTokens,
    int k,
    int[] indices,
    SamplerSpec sampler,
    DecodeParams decode,
    long jobSeed,
    long policyVersion) {

  /** A shard of the start-up weights (version 0). */
  public ShardRequest(String jobId, String promptId, String promptText, int[] promptTokens, int k,
      int[] indices, SamplerSpec sampler, DecodeParams decode, long jobSeed) {
    this(jobId, promptId, promptText, promptTokens, k, indices, sampler, decode, jobSeed, 0L);
  }
}
