package quasiroll.coordinator.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * One validated {@code /v1/completions} or {@code /v1/chat/completions} request, in quasiroll's
 * terms. Produced by {@link GenerationRequestParser}; every field already checked against its
 * range.
 *
 * @param prompts completions: one entry per prompt (text or token ids); chat: empty (the
 *     conversation is in {@code messages} and rendered with the model's chat template)
 * @param messages chat only: the request's {@code messages} array, else null
 * @param n samples per prompt in this call
 * @param groupSize k of the coupled group (= n unless group_size was given)
 * @param indexOffset first sample index of the group this call returns
 * @param groupId prompt id root (null: prompt i's id is "i")
 * @param seed the job seed (drawn at random when the request has none, and echoed back)
 * @param sampler coupling short name (iid, lattice, sobol, ...)
 * @param logprobs completions: top-N alternatives (0..20), -1 = no logprobs; chat: top_logprobs
 *     when logprobs is true, else -1
 * @param maxTokens tokens to generate per sample; 0 only with echo (the prompt alone)
 */
public record GenerationRequest(
    boolean chat,
    String model,
    List<PromptInput> prompts,
    JsonNode messages,
    boolean addGenerationPrompt,
    int n,
    int groupSize,
    int indexOffset,
    String groupId,
    long seed,
    boolean seedGiven,
    String sampler,
    Map<String, String> samplerOptions,
    Float temperature,
    Float topP,
    int topK,
    float minP,
    int maxTokens,
    List<String> stop,
    List<Integer> stopTokenIds,
    int logprobs,
    boolean echo,
    boolean stream,
    boolean includeUsage,
    String user) {

  /** A prompt: text, or token ids when {@code tokenIds} is non-null. */
  public record PromptInput(String text, int[] tokenIds) {}

  /** Echo with logprobs: the workers score the prompt's tokens (raw-model logprobs). */
  public boolean scoresPrompt() {
    return echo && logprobs >= 0;
  }

  /** Echo with max_tokens 0: nothing is generated, the response is the prompt (and its scores). */
  public boolean promptOnly() {
    return echo && maxTokens == 0;
  }

  /** The noise id of prompt {@code i}: the same in every call that is to share a group. */
  public String promptId(int i, int promptCount) {
    if (groupId == null) {
      return Integer.toString(i);
    }
    return promptCount == 1 ? groupId : groupId + "/" + i;
  }
}
