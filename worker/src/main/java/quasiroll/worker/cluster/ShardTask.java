package quasiroll.worker.cluster;

import quasiroll.v1.DecodeParams;
import quasiroll.v1.SamplerSpec;
import quasiroll.worker.engine.ShardRequest;

/**
 * One shard as it crosses the cluster: some sample indices of one prompt plus everything
 * needed to decode them. The API messages travel as protobuf (the serializer writes their
 * bytes), so the worker interprets them with exactly the conversions the coordinator
 * validated them with ({@link ApiConversions}).
 *
 * @param shardId unique within the coordinator's lifetime; a re-queued shard gets a new id
 * @param promptTokens pre-tokenized prompt, empty to tokenize {@code promptText}
 * @param indices the sample indices, each in [0, k)
 * @param policyVersion the policy version of the model whose weights must decode it (the
 *     version the prompt's group is pinned to; 0 = the start-up weights)
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
    long policyVersion) {

  public ShardRequest toRequest() {
    return new ShardRequest(
        jobId,
        promptId,
        promptText,
        promptTokens.length == 0 ? null : promptTokens,
        k,
        indices,
        ApiConversions.samplerSpec(sampler),
        ApiConversions.decodeParams(decode, sampler),
        jobSeed,
        policyVersion);
  }
}
