package quasiroll.worker.runtime.cpu;

import quasiroll.worker.runtime.DecodeSession;

/**
 * Sequences continuing one prompt. The prompt's KV cache is computed once at open and stored
 * once (the prefix segment); each sequence appends to its own tail segment, allocated at its
 * first step and dropped at release. Not thread-safe: one decode loop drives a session.
 */
final class CpuDecodeSession implements DecodeSession {
  /** Prompt rows per prefill forward pass (bounds the prefill activations). */
  static final int PREFILL_CHUNK = 64;

  private final CpuTransformer model;
  private final KvSegment prefix;
  private final KvSegment[] tails;
  private final boolean[] released;
  private final int tailCapacity;
  private final float[] promptLogits;
  private boolean closed;

  CpuDecodeSession(CpuTransformer model, int[] prompt, int maxSequences, int tailCapacity) {
    this.model = model;
    int layers = model.config().numLayers();
    this.prefix = new KvSegment(layers, 0, prompt.length, model.kvDim());
    this.tails = new KvSegment[maxSequences];
    this.released = new boolean[maxSequences];
    this.tailCapacity = tailCapacity;
    this.promptLogits = new float[model.config().vocabSize()];
    KvSegment[] own = {prefix};
    for (int from = 0; from < prompt.length; from += PREFILL_CHUNK) {
      int n = Math.min(PREFILL_CHUNK, prompt.length - from);
      int[] tokens = new int[n];
      int[] positions = new int[n];
      KvSegment[][] segments = new KvSegment[n][];
      for (int r = 0; r < n; r++) {
        tokens[r] = prompt[from + r];
        positions[r] = from + r;
        segments[r] = own;
      }
      boolean last = from + n == prompt.length;
      model.forward(n, tokens, positions, segments, promptLogits, last ? n - 1 : n);
    }
  }

  @Override
  public float[] promptLogits() {
    return promptLogits.clone();
  }

  @Override
  public void step(int[] sequences, int[] tokens, int n, float[] logits) {
    if (closed) {
      throw new IllegalStateException("session is closed");
    }
    int vocab = model.config().vocabSize();
    if (n < 1 || sequences.length < n || tokens.length < n || logits.length < (long) n * vocab) {
      throw new IllegalArgumentException("step of " + n + " sequences needs sequences/tokens of"
          + " length >= n and logits of length >= n * " + vocab);
    }
    int[] positions = new int[n];
    KvSegment[][] segments = new KvSegment[n][];
    boolean[] seen = new boolean[tails.length];
    for (int j = 0; j < n; j++) {
      int s = sequences[j];
      if (s < 0 || s >= tails.length || released[s] || seen[s]) {
        throw new IllegalArgumentException("sequence " + s + " is not a live sequence of this"
            + " session (ids 0.." + (tails.length - 1) + ", each at most once per step)");
      }
      seen[s] = true;
      if (tokens[j] < 0 || tokens[j] >= vocab) {
        throw new IllegalArgumentException("token " + tokens[j] + " outside vocabulary 0.."
            + (vocab - 1));
      }
      if (tails[s] == null) {
        tails[s] = new KvSegment(model.config().numLayers(), prefix.capacity, tailCapacity,
            model.kvDim());
      }
      if (tails[s].length == tailCapacity) {
        throw new IllegalStateException("sequence " + s + " already holds " + length(s)
            + " tokens: the session was opened for " + tailCapacity + " new tokens per sequence");
      }
      positions[j] = prefix.capacity + tails[s].length;
      segments[j] = new KvSegment[] {prefix, tails[s]};
    }
    model.forward(n, tokens, positions, segments, logits, 0);
  }

  @Override
  public int length(int sequence) {
    KvSegment tail = tails[sequence];
    return prefix.capacity + (tail == null ? 0 : tail.length);
  }

  @Override
  public void release(int sequence) {
    tails[sequence] = null;
    released[sequence] = true;
  }

  @Override
  public void close() {
    closed = true;
    java.util.Arrays.fill(tails, null);
  }
}
