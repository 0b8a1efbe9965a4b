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

  /**
   * The next-token logits after every proper prefix of {@code prompt}, for scoring the prompt's own
   * tokens: calls {@code out.accept(t, logits, offset)} for t = 0 .. prompt.length - 2 in order,
   * where {@code logits[offset .. offset + vocabSize)} is the row that predicts {@code prompt[t +
   * 1]} from {@code prompt[0..t]} (the array may be reused once accept returns). A one-token prompt
   * has no such row. This default feeds the prompt one token at a time through a one-sequence
   * session, which any backend can do; a backend that keeps the logits of every prefill row
   * overrides it with one pass.
   *
   * @throws quasiroll.common.error.BadInputException as {@link #open} does
   */
  default void prefixLogits(int[] prompt, PrefixLogits out) {
    if (prompt.length < 2) {
      return;
    }
    int vocab = info().vocabSize();
    try (DecodeSession s = open(java.util.Arrays.copyOf(prompt, 1), 1, prompt.length - 1)) {
      out.accept(0, s.promptLogits(), 0);
      int[] sequence = {0};
      int[] token = new int[1];
      float[] logits = new float[vocab];
      for (int t = 1; t < prompt.length - 1; t++) {
        token[0] = prompt[t];
        s.step(sequence, token, 1, logits);
        out.accept(t, logits, 0);
      }
    }
  }

  /** Receives one row of {@link #prefixLogits}. */
  @FunctionalInterface
  interface PrefixLogits {
    void accept(int position, float[] logits, int offset);
  }

  @Override
  void close();
}
