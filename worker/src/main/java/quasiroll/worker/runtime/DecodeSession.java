package quasiroll.worker.runtime;

/**
 * The sequences of one shard, all continuing one prompt. Sequence ids are 0..maxSequences-1; every
 * sequence starts right after the prompt.
 */
public interface DecodeSession extends AutoCloseable {
  /** Logits (length vocabSize) at the last prompt position; the same for every sequence. */
  float[] promptLogits();

  /**
   * Appends {@code tokens[j]} to sequence {@code sequences[j]} for j < n, in one batched forward
   * pass, and writes each sequence's next-token logits to {@code logits[j * vocabSize .. (j + 1) *
   * vocabSize)}. The result for a sequence does not depend on which other sequences share the
   * batch.
   */
  void step(int[] sequences, int[] tokens, int n, float[] logits);

  /** Number of tokens held by the sequence so far (prompt included). */
  int length(int sequence);

  /** Frees a finished sequence's cache; it leaves the batch. */
  void release(int sequence);

  @Override
  void close();
}
