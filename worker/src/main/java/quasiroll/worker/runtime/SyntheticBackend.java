package quasiroll.worker.runtime;

import java.util.Set;
import quasiroll.common.error.BadInputException;
import quasiroll.common.synthetic.MarkovModel;

/**
 * A {@link ModelBackend} over the synthetic Markov model: logits come from the chain's transition
 * table (computed on the CPU), so the whole decode path (sampling, stopping, results) runs without
 * weights and with an exactly known distribution. A sequence's state is its last token; the
 * prompt's last token sets the start state (t0 = BOS). Sequences are independent, so a result never
 * depends on the batch.
 */
public final class SyntheticBackend implements ModelBackend {
  private final MarkovModel model;
  private final ModelInfo info;

  public SyntheticBackend(MarkovModel model) {
    this.model = model;
    this.info =
        new ModelInfo(
            model.spec(),
            "synthetic-markov",
            model.vocabSize(),
            model.contextLength(),
            Set.of(model.eosToken()),
            0,
            0);
  }

  public MarkovModel model() {
    return model;
  }

  @Override
  public ModelInfo info() {
    return info;
  }

  @Override
  public long sessionBytes(int promptTokens, int maxSequences, int maxNewTokens) {
    return (long) maxSequences * 3 * Integer.BYTES + (long) model.vocabSize() * Float.BYTES;
  }

  @Override
  public DecodeSession open(int[] prompt, int maxSequences, int maxNewTokens) {
    if (prompt.length >= model.contextLength()) {
      throw new BadInputException(
          "prompt has "
              + prompt.length
              + " tokens: the context length is "
              + model.contextLength()
              + ", leaving no room to generate");
    }
    if (maxSequences < 1) {
      throw new IllegalArgumentException("maxSequences must be >= 1, got " + maxSequences);
    }
    return new Session(model.startState(prompt), prompt.length, maxSequences);
  }

  @Override
  public void close() {}

  private final class Session implements DecodeSession {
    private final float[] promptLogits;
    private final int[] state;
    private final int[] length;
    private final boolean[] released;

    Session(int start, int promptLength, int n) {
      promptLogits = model.logits(start);
      state = new int[n];
      length = new int[n];
      released = new boolean[n];
      java.util.Arrays.fill(state, start);
      java.util.Arrays.fill(length, promptLength);
    }

    @Override
    public float[] promptLogits() {
      return promptLogits.clone();
    }

    @Override
    public void step(int[] sequences, int[] tokens, int n, float[] logits) {
      int v = model.vocabSize();
      for (int j = 0; j < n; j++) {
        int s = sequences[j];
        if (released[s]) {
          throw new IllegalStateException("sequence " + s + " was released");
        }
        if (length[s] >= model.contextLength()) {
          throw new IllegalStateException(
              "sequence " + s + " is at the context length " + model.contextLength());
        }
        state[s] = model.stateAfter(tokens[j]);
        length[s]++;
        model.logits(state[s], logits, j * v);
      }
    }

    @Override
    public int length(int sequence) {
      return length[sequence];
    }

    @Override
    public void release(int sequence) {
      released[sequence] = true;
    }

    @Override
    public void close() {}
  }
}
