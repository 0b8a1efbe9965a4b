package quasiroll.worker.runtime;

/**
 * A loaded model on one device (CPU, a CUDA GPU, or the synthetic model). The decode loop ({@code
 * ShardDecoder}) talks only to this interface, so every backend shares the same sampling, stopping
 * and result logic; backends differ only in how logits are computed.
 */
public interface ModelBackend extends AutoCloseable {
  ModelInfo info();

  /**
   * Prefills {@code prompt} once and returns a session whose sequences all continue from that
   * prefix (its KV cache is computed once and shared or copied once).
   *
   * @param maxSequences how many sequences the session will hold at most (the shard's size)
   * @param maxNewTokens the most tokens any sequence will append (for up-front memory sizing)
   * @throws quasiroll.common.error.BadInputException if the prompt is empty or too long, or the
   *     session would not fit in the configured memory budget (the message has the numbers)
   */
  DecodeSession open(int[] prompt, int maxSequences, int maxNewTokens);

  /** Bytes a session of this shape needs beyond the weights (KV cache + activations). */
  long sessionBytes(int promptTokens, int maxSequences, int maxNewTokens);

  /**
   * The most bytes sessions may take beyond the weights; a decode loop holding many sessions at
   * once keeps the sum of their {@link #sessionBytes} within it.
   */
  default long memoryBudgetBytes() {
    return Long.MAX_VALUE;
  }

  @Override
  void close();
}
