package quasiroll.worker.engine;

import java.util.Objects;
import quasiroll.cluster.ApiConversions;
import quasiroll.cluster.wire.ShardTask;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SamplerSpec;

/**
 * One shard as the decode engine takes it: some of the k sample indices of one prompt, with the
 * sampler and decode settings resolved from API messages to domain records. {@link ShardTask} is
 * the same shard on the wire (API messages as protobuf); {@link #of(ShardTask)} converts. The noise
 * of each index is a pure function of (jobSeed, promptId, index, position), so any split of the k
 * indices across shards yields the same samples.
 *
 * @param promptTokens pre-tokenized prompt, or an empty array to tokenize {@code promptText} (the
 *     same convention as {@link ShardTask#promptTokens()}; never null)
 * @param indices the sample indices of this shard, each in [0, k)
 * @param topLogprobs per generated token, also report this many most probable tokens of the
 *     processed distribution (0 = off)
 * @param policyVersion the policy version whose weights must decode it (0 = the weights loaded at
 *     start); a runner that holds one version only ignores it
 * @param promptLogprobs score the prompt's tokens under the raw model, with this many most probable
 *     alternatives per position (0..20); -1 = do not score
 * @param promptOnly generate nothing: every sample ends at once with the prompt scores only
 * @param promptSeed the prompt's noise seed when the job gave one; null = derived from {@code
 *     jobSeed} and {@code promptId}
 */
public record ResolvedShard(
    String jobId,
    String promptId,
    String promptText,
    int[] promptTokens,
    int k,
    int[] indices,
    SamplerSpec sampler,
    DecodeParams decode,
    long jobSeed,
    int topLogprobs,
    long policyVersion,
    int promptLogprobs,
    boolean promptOnly,
    Long promptSeed) {

  /**
   * A plain shard: no top logprobs, the start-up weights (policy version 0), no prompt scoring, the
   * prompt seed derived from the job seed. The {@code with...} methods set the rest.
   */
  public ResolvedShard(
      String jobId,
      String promptId,
      String promptText,
      int[] promptTokens,
      int k,
      int[] indices,
      SamplerSpec sampler,
      DecodeParams decode,
      long jobSeed) {
    this(
        jobId,
        promptId,
        promptText,
        promptTokens,
        k,
        indices,
        sampler,
        decode,
        jobSeed,
        0,
        0L,
        -1,
        false,
        null);
  }

  /** This shard, also reporting the {@code n} most probable tokens per generated token. */
  public ResolvedShard withTopLogprobs(int n) {
    return new ResolvedShard(
        jobId,
        promptId,
        promptText,
        promptTokens,
        k,
        indices,
        sampler,
        decode,
        jobSeed,
        n,
        policyVersion,
        promptLogprobs,
        promptOnly,
        promptSeed);
  }

  /** This shard, decoded by the weights of policy {@code version}. */
  public ResolvedShard withPolicyVersion(long version) {
    return new ResolvedShard(
        jobId,
        promptId,
        promptText,
        promptTokens,
        k,
        indices,
        sampler,
        decode,
        jobSeed,
        topLogprobs,
        version,
        promptLogprobs,
        promptOnly,
        promptSeed);
  }

  /**
   * This shard, scoring its prompt with {@code alternatives} per position; {@code only}: no
   * generation.
   */
  public ResolvedShard withPromptScoring(int alternatives, boolean only) {
    return new ResolvedShard(
        jobId,
        promptId,
        promptText,
        promptTokens,
        k,
        indices,
        sampler,
        decode,
        jobSeed,
        topLogprobs,
        policyVersion,
        alternatives,
        only,
        promptSeed);
  }

  public ResolvedShard {
    Objects.requireNonNull(
        promptTokens, "promptTokens (an empty array means: tokenize promptText)");
  }

  /** The prompt's noise seed: the job's explicit one (Prompt.noise_seed), else H(job seed, id). */
  public long noiseSeed() {
    return promptSeed != null
        ? promptSeed
        : quasiroll.common.noise.KeyedHash.promptSeed(jobSeed, promptId);
  }

  /** The engine's view of a shard that crossed the cluster. */
  public static ResolvedShard of(ShardTask task) {
    return new ResolvedShard(
        task.jobId(),
        task.promptId(),
        task.promptText(),
        task.promptTokens(),
        task.k(),
        task.indices(),
        ApiConversions.samplerSpec(task.sampler()),
        ApiConversions.decodeParams(task.decode(), task.sampler()),
        task.jobSeed(),
        task.decode().getTopLogprobs(),
        task.policyVersion(),
        task.decode().hasPromptLogprobs() ? task.decode().getPromptLogprobs() : -1,
        task.decode().getPromptOnly(),
        task.promptSeedOrNull());
  }
}
