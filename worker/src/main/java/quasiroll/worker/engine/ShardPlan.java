package quasiroll.worker.engine;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.IntStream;
import quasiroll.common.error.BadInputException;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.NoiseFactory;
import quasiroll.worker.runtime.ModelInfo;
import quasiroll.worker.tokenizer.Tokenizer;

/**
 * A validated shard, ready to decode: its prompt tokens, prompt seed, stop ids and the most tokens
 * any of its samples may generate. Shared by every decode loop, so every loop rejects the same bad
 * input with the same message.
 */
record ShardPlan(
    ResolvedShard shard,
    DecodeParams params,
    int[] prompt,
    long promptSeed,
    Set<Integer> stopIds,
    int maxNew) {
  /** The most alternatives per prompt position (OpenAI's cap on top logprobs). */
  static final int MAX_PROMPT_LOGPROBS = 20;

  /**
   * @return the plan, or null for a shard without indices (nothing to decode)
   * @throws BadInputException for an empty or too long prompt, a token id outside the vocabulary,
   *     or a repeated sample index
   */
  static ShardPlan of(ResolvedShard shard, ModelInfo info, Tokenizer tokenizer) {
    DecodeParams params = shard.decode();
    int[] prompt =
        shard.promptTokens() != null && shard.promptTokens().length > 0
            ? shard.promptTokens()
            : tokenizer.encodePrompt(shard.promptText() == null ? "" : shard.promptText());
    if (prompt.length == 0) {
      throw new BadInputException("prompt '" + shard.promptId() + "' is empty after tokenization");
    }
    for (int t : prompt) {
      if (t < 0 || t >= info.vocabSize()) {
        throw new BadInputException(
            "prompt '"
                + shard.promptId()
                + "' has token id "
                + t
                + ": expected ids in [0, "
                + info.vocabSize()
                + ") (the model's vocabulary)");
      }
    }
    int n = shard.indices().length;
    if (n == 0) {
      return null;
    }
    if (shard.promptLogprobs() < -1 || shard.promptLogprobs() > MAX_PROMPT_LOGPROBS) {
      throw new BadInputException(
          "prompt_logprobs "
              + shard.promptLogprobs()
              + " is invalid: expected 0.."
              + MAX_PROMPT_LOGPROBS
              + " (or unset)");
    }
    if (shard.promptOnly()) {
      if (shard.promptLogprobs() < 0) {
        throw new BadInputException(
            "prompt_only needs prompt_logprobs: a shard that generates nothing must score its"
                + " prompt");
      }
      if (prompt.length > info.contextLength()) {
        throw new BadInputException(
            "prompt '"
                + shard.promptId()
                + "' has "
                + prompt.length
                + " tokens: more than the context length "
                + info.contextLength());
      }
      long promptSeed = shard.noiseSeed();
      return new ShardPlan(shard, params, prompt, promptSeed, Set.of(), 0);
    }
    int room = info.contextLength() - prompt.length;
    if (room < 1) {
      throw new BadInputException(
          "prompt '"
              + shard.promptId()
              + "' has "
              + prompt.length
              + " tokens: the context length "
              + info.contextLength()
              + " leaves no room to generate");
    }
    if (IntStream.of(shard.indices()).distinct().count() != n) {
      throw new BadInputException(
          "shard of prompt '"
              + shard.promptId()
              + "' repeats a sample index: "
              + Arrays.toString(shard.indices()));
    }
    long promptSeed = shard.noiseSeed();
    Set<Integer> stopIds = new HashSet<>(info.eosTokenIds());
    stopIds.addAll(params.stopTokenIds());
    return new ShardPlan(
        shard, params, prompt, promptSeed, stopIds, Math.min(params.maxNewTokens(), room));
  }

  /** Fresh state for every sample of the shard; sample j is sequence j of its session. */
  SampleState[] samples(NoiseFactory noises, Tokenizer tokenizer) {
    int n = shard.indices().length;
    SampleState[] samples = new SampleState[n];
    for (int j = 0; j < n; j++) {
      samples[j] =
          new SampleState(
              j,
              shard.indices()[j],
              noises.open(shard.sampler(), promptSeed, shard.indices()[j], shard.k()),
              tokenizer.streamingDecoder());
    }
    return samples;
  }
}
