package quasiroll.worker.model;

import quasiroll.common.error.BadInputException;

/**
 * How much memory a model and a k-sample job need, so a backend can refuse up front a job that
 * cannot fit its budget ({@code quasiroll.worker.memory-budget-bytes}, which covers everything
 * beyond the weights). The estimate is an upper bound for the CPU and CUDA backends, which keep f32
 * KV caches, prefill the prompt once and decode the k sequences as one batch:
 *
 * <pre>
 *   kvBytesPerToken   = 2 (K and V) * layers * kvHeads * headDim * 4
 *   kv(k, P, N)       = kvBytesPerToken * k * (P + N)      (every sequence's own cache; no
 *                                                          sharing of the prefix assumed)
 *   tokensInFlight    = max(P, k)                          (prefill width vs. decode batch)
 *   activations       = tokensInFlight * 4 * (3*hidden + qDim + 2*kvDim + 3*intermediate
 *                                             + heads * (P + N))
 *   logits            = max(1, k) * vocab * 4
 *   session(k, P, N)  = kv + activations + logits
 *   peak              = weights + session
 * </pre>
 */
public record MemoryPlan(ModelConfig config, long weightBytes) {
  public static MemoryPlan of(ModelConfig config, long weightBytes) {
    return new MemoryPlan(config, weightBytes);
  }

  public long kvBytesPerToken() {
    return config.kvBytesPerToken();
  }

  public long kvBytes(int k, int promptTokens, int newTokens) {
    return kvBytesPerToken() * k * ((long) promptTokens + newTokens);
  }

  public long activationBytes(int k, int promptTokens, int newTokens) {
    long qDim = (long) config.numHeads() * config.headDim();
    long kvDim = (long) config.numKvHeads() * config.headDim();
    long perToken =
        3L * config.hiddenSize()
            + qDim
            + 2 * kvDim
            + 3L * config.intermediateSize()
            + (long) config.numHeads() * (promptTokens + newTokens);
    return (long) Math.max(promptTokens, k) * perToken * Float.BYTES;
  }

  public long logitsBytes(int k) {
    return (long) Math.max(1, k) * config.vocabSize() * Float.BYTES;
  }

  /** Bytes beyond the weights: what the memory budget is compared against. */
  public long sessionBytes(int k, int promptTokens, int newTokens) {
    return kvBytes(k, promptTokens, newTokens)
        + activationBytes(k, promptTokens, newTokens)
        + logitsBytes(k);
  }

  public long peakBytes(int k, int promptTokens, int newTokens) {
    return weightBytes + sessionBytes(k, promptTokens, newTokens);
  }

  /** Refuses a job whose session does not fit {@code budgetBytes}, with the numbers. */
  public void requireFits(int k, int promptTokens, int newTokens, long budgetBytes) {
    long need = sessionBytes(k, promptTokens, newTokens);
    if (need > budgetBytes) {
      throw new BadInputException(
          "a job of k="
              + k
              + " samples, "
              + promptTokens
              + " prompt tokens and "
              + newTokens
              + " new tokens needs "
              + need
              + " bytes (KV cache "
              + kvBytes(k, promptTokens, newTokens)
              + " = "
              + kvBytesPerToken()
              + " bytes/token x "
              + k
              + " x "
              + (promptTokens + newTokens)
              + " tokens, activations "
              + activationBytes(k, promptTokens, newTokens)
              + ", logits "
              + logitsBytes(k)
              + ") but quasiroll.worker.memory-budget-bytes is "
              + budgetBytes
              + "; lower k (shard it over more workers), the prompt or max_new_tokens, or raise"
              + " the budget");
    }
  }

  /** Largest k whose session fits the budget (0 if not even one sequence fits). */
  public int maxSamples(int promptTokens, int newTokens, long budgetBytes) {
    int lo = 0;
    int hi = 1 << 20;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (sessionBytes(mid, promptTokens, newTokens) <= budgetBytes) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }
}
