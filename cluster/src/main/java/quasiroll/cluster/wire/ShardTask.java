package quasiroll.cluster.wire;

import quasiroll.v1.DecodeParams;
import quasiroll.v1.SamplerSpec;

/**
 * One shard as it crosses the cluster: some sample indices of one prompt plus everything needed to
 * decode them. The API messages travel as protobuf (the serializer writes their bytes), so the
 * worker interprets them with exactly the conversions the coordinator validated them with ({@link
 * quasiroll.cluster.ApiConversions}). The worker's decode engine takes the same shard with those
 * messages converted (quasiroll.worker.engine.ResolvedShard).
 *
 * @param shardId unique within the coordinator's lifetime; a re-queued shard gets a new id
 * @param promptTokens pre-tokenized prompt, empty to tokenize {@code promptText}
 * @param indices the sample indices, each in [0, k)
 * @param policyVersion the policy version of the model whose weights must decode it (the version
 *     the prompt's group is pinned to; 0 = the start-up weights)
 * @param promptSeedGiven whether the job gave the prompt's noise seed (Prompt.noise_seed); when
 *     false it is derived from {@code jobSeed} and {@code promptId}
 * @param promptSeed that noise seed (ignored unless given; a primitive pair rather than a boxed
 *     Long keeps the wire contract to the registered classes)
 */
public record ShardTask(
    String shardId,
    String jobId,
    String promptId,
    String promptText,
    int[] promptTokens,
    int k,
    int[] indices,
    SamplerSpec sampler,
    DecodeParams decode,
    long jobSeed,
    long policyVersion,
    boolean promptSeedGiven,
    long promptSeed) {

  /** A shard whose prompt seed derives from the job seed and the prompt id. */
  public ShardTask(
      String shardId,
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
    this(
        shardId,
        jobId,
        promptId,
        promptText,
        promptTokens,
        k,
        indices,
        sampler,
        decode,
        jobSeed,
        policyVersion,
        false,
        0L);
  }

  /** The explicit prompt seed, or null when it derives from the job seed and the prompt id. */
  public Long promptSeedOrNull() {
    return promptSeedGiven ? promptSeed : null;
  }
}
