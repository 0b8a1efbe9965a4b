package quasiroll.worker.runtime.cpu;

import quasiroll.worker.runtime.DecodeSession;

/**
 * Sequences continuing one prompt. The prompt's KV cache is computed once (at open, or for a
 * deferred session inside the first {@link CpuBackend#step} that lists it) and stored once (the
 * prefix segment); each sequence appends to its own tail segment, allocated at its first step and
 * dropped at release. Not thread-safe: one decode loop drives a session.
 */
final class CpuDecodeSession implements DecodeSession {
  /** Prompt rows per prefill forward pass (bounds the prefill activations). */
  static final int PREFILL_CHUNK = 64;

  final CpuTransformer model;
  final int[] prompt;
  final KvSegment prefix;
  private final KvSegment[] tails;
  private final boolean[] released;
  private final int tailCapacity;
  private final float[] promptLogits;
  private boolean closed;

  /** True until the prompt has been computed (a deferred session before its first step). */
  boolean prefillPending;

  /** The multi-session step that last used each sequence (duplicate check). */
  private final long[] lastStep;

  /** The session whose prompt cache this one shares, or null when it owns its own. */
  private final CpuDecodeSession base;

  /** A session sharing {@code base}'s prompt cache (and prompt logits). */
  CpuDecodeSession(CpuDecodeSession base, int maxSequences, int tailCapacity) {
    this.model = base.model;
    this.prompt = base.prompt;
    this.lastStep = new long[maxSequences];
    this.prefix = base.prefix;
    this.tails = new KvSegment[maxSequences];
    this.released = new boolean[maxSequences];
    this.tailCapacity = tailCapacity;
    this.promptLogits = null;
    this.base = base.base != null ? base.base : base;
  }

  CpuDecodeSession(CpuTransformer model, int[] prompt, int maxSequences, int tailCapacity) {
    this(model, prompt, maxSequences, tailCapacity, false);
  }

  /**
   * @param deferred leave the prompt for a later {@link CpuBackend#step}
   */
  CpuDecodeSession(
      CpuTransformer model, int[] prompt, int maxSequences, int tailCapacity, boolean deferred) {
    this.model = model;
    this.prompt = prompt.clone();
    this.lastStep = new long[maxSequences];
    this.base = null;
    int layers = model.config().numLayers();
    this.prefix = new KvSegment(layers, 0, prompt.length, model.kvDim());
    this.tails = new KvSegment[maxSequences];
    this.released = new boolean[maxSequences];
    this.tailCapacity = tailCapacity;
    this.promptLogits = new float[model.config().vocabSize()];
    this.prefillPending = deferred;
    if (deferred) {
      return;
    }
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
    if (base != null) {
      return base.promptLogits();
    }
    if (prefillPending) {
      throw new IllegalStateException(
          "the prompt of this deferred session has not been computed"
              + " yet: list the session in a step's prefill first");
    }
    return promptLogits.clone();
  }

  @Override
  public void step(int[] sequences, int[] tokens, int n, float[] logits) {
    int vocab = model.config().vocabSize();
    if (n < 1 || sequences.length < n || tokens.length < n || logits.length < (long) n * vocab) {
      throw new IllegalArgumentException(
          "step of "
              + n
              + " sequences needs sequences/tokens of"
              + " length >= n and logits of length >= n * "
              + vocab);
    }
    int[] positions = new int[n];
    KvSegment[][] segments = new KvSegment[n][];
    long stamp = STEPS.incrementAndGet();
    for (int j = 0; j < n; j++) {
      positions[j] = prepareRow(sequences[j], tokens[j], segments, j, stamp);
    }
    model.forward(n, tokens, positions, segments, logits, 0);
  }

  /** Numbers multi-session steps, so a sequence listed twice in one step is caught. */
  static final java.util.concurrent.atomic.AtomicLong STEPS =
      new java.util.concurrent.atomic.AtomicLong();

  /**
   * Checks that sequence {@code s} may append {@code token} in the step numbered {@code stamp},
   * allocates its tail at its first step, stores its cache segments in {@code segments[j]} and
   * returns the position the token takes.
   */
  int prepareRow(int s, int token, KvSegment[][] segments, int j, long stamp) {
    if (closed) {
      throw new IllegalStateException("session is closed");
    }
    if (prefillPending || (base != null && base.prefillPending)) {
      throw new IllegalStateException("the prompt of this deferred session has not been computed");
    }
    int vocab = model.config().vocabSize();
    if (s < 0 || s >= tails.length || released[s] || lastStep[s] == stamp) {
      throw new IllegalArgumentException(
          "sequence "
              + s
              + " is not a live sequence of this"
              + " session (ids 0.."
              + (tails.length - 1)
              + ", each at most once per step)");
    }
    lastStep[s] = stamp;
    if (token < 0 || token >= vocab) {
      throw new IllegalArgumentException(
          "token " + token + " outside vocabulary 0.." + (vocab - 1));
    }
    if (tails[s] == null) {
      tails[s] =
          new KvSegment(model.config().numLayers(), prefix.capacity, tailCapacity, model.kvDim());
    }
    if (tails[s].length == tailCapacity) {
      throw new IllegalStateException(
          "sequence "
              + s
              + " already holds "
              + length(s)
              + " tokens: the session was opened for "
              + tailCapacity
              + " new tokens per sequence");
    }
    segments[j] = new KvSegment[] {prefix, tails[s]};
    return prefix.capacity + tails[s].length;
  }

  /** Sequence {@code to} (not stepped yet) continues from a copy of {@code from}'s tail. */
  void copySequence(int from, int to) {
    if (closed) {
      throw new IllegalStateException("session is closed");
    }
    for (int s : new int[] {from, to}) {
      if (s < 0 || s >= tails.length || released[s]) {
        throw new IllegalArgumentException(
            "sequence "
                + s
                + " is not a live sequence of this session (ids 0.."
                + (tails.length - 1)
                + ")");
      }
    }
    if (from == to || tails[to] != null) {
      throw new IllegalArgumentException(
          "sequence "
              + to
              + " cannot take a copy of sequence "
              + from
              + ": it is the same sequence or has stepped");
    }
    tails[to] = tails[from] == null ? null : tails[from].copy();
  }

  /** Stores the prompt logits computed by a multi-session step; the prompt is now done. */
  void prefilled(float[] logits, int offset) {
    System.arraycopy(logits, offset, promptLogits, 0, promptLogits.length);
    prefillPending = false;
  }

  boolean closed() {
    return closed;
  }

  boolean sharesPrompt() {
    return base != null;
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
