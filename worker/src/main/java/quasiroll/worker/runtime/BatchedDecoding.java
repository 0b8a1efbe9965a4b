package quasiroll.worker.runtime;

import java.util.List;

/**
 * A backend whose forward pass can take the rows of many sessions at once (continuous batching):
 * the decode rows of sequences of different prompts and jobs, plus the prompts of newly opened
 * sessions, in one pass. Each row's arithmetic must not depend on the other rows (the same contract
 * as {@link DecodeSession#step}), so a sample's logits, and therefore its bytes, are the same
 * whatever it was batched with.
 */
public interface BatchedDecoding {
  /**
   * Opens a session like {@link ModelBackend#open} but does not compute its prompt: the prompt's
   * rows go into the next {@link #step} that lists the session in {@code prefill}; until then
   * {@link DecodeSession#promptLogits()} throws. Same validation and memory check as {@code open}.
   */
  DecodeSession openDeferred(int[] prompt, int maxSequences, int maxNewTokens);

  /**
   * Opens a session continuing the same prompt as {@code base} (a session of this backend, open,
   * prefilled or still deferred) that shares base's prompt cache instead of computing it again: the
   * prompt is computed once however many shards of it are decoded at once. The new session is never
   * listed in a step's {@code prefill}; its prompt logits are base's, available when base's are.
   */
  DecodeSession openSharing(DecodeSession base, int maxSequences, int maxNewTokens);

  /**
   * Sequence {@code to} of {@code session}, live and not stepped yet, continues from a copy of live
   * sequence {@code from}'s cache: afterwards it holds the tokens {@code from} appended, with the
   * same keys and values, so appending a token to either gives the logits the other would give. For
   * sequences whose tokens are the same so far (the caller computes one row for all of them and
   * copies the cache when they diverge).
   */
  void copySequence(DecodeSession session, int from, int to);

  /**
   * One forward pass over (a) the whole prompt of every session in {@code prefill} (each opened
   * with {@link #openDeferred} and not yet prefilled; afterwards its prompt logits are available)
   * and (b) rows j < n: {@code tokens[j]} appended to sequence {@code sequences[j]} of {@code
   * sessions[j]}, whose next-token logits go to {@code logits[j * vocabSize ..]}. Every session
   * must come from this backend.
   */
  void step(
      List<DecodeSession> prefill,
      DecodeSession[] sessions,
      int[] sequences,
      int[] tokens,
      int n,
      float[] logits);
}
