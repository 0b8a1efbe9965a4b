package quasiroll.worker.runtime.cpu;

import java.util.List;
import java.util.Map;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.model.MemoryPlan;
import quasiroll.worker.model.ModelConfig;
import quasiroll.worker.model.ModelTensors;
import quasiroll.worker.model.TensorData;
import quasiroll.worker.runtime.BatchedDecoding;
import quasiroll.worker.runtime.DecodeSession;
import quasiroll.worker.runtime.ModelBackend;
import quasiroll.worker.runtime.ModelInfo;
import quasiroll.worker.runtime.transformer.TransformerWeights;

/**
 * Llama / Qwen2 decoders on the CPU with the Java Vector API and a fixed pool of threads. Weights
 * stay in the loader's (memory-mapped) buffers in their stored dtype (F32, F16, BF16, Q8_0, Q4_0,
 * Q4_K, Q6_K): float types are decoded row group by row group during each product, quantized blocks
 * are read straight from the mapped file with the input quantized as llama.cpp does
 * (docs/cpu-backend.md); activations and the KV cache are f32. Logits do not depend on the thread
 * count or on which sequences share a decode step.
 */
public final class CpuBackend implements ModelBackend, BatchedDecoding {
  private final ModelInfo info;
  private final CpuTransformer model;
  private final WorkerPool pool;
  private final MemoryPlan memoryPlan;
  private final long memoryBudgetBytes;

  /** A loaded HF directory or GGUF file; {@code id} is what the worker registers it under. */
  public static CpuBackend of(String id, LoadedModel m, int threads, long memoryBudgetBytes) {
    return new CpuBackend(
        id, m.config(), m.tensors(), m.ropeInverseFrequencies(), threads, memoryBudgetBytes);
  }

  /**
   * @param tensors by Hugging Face name ({@link ModelTensors}), q/k rows in HF (half-split RoPE)
   *     order
   * @param ropeInverseFrequencies headDim/2 inverse frequencies, any scaling applied
   * @param threads worker threads (the calling thread is one of them)
   * @param memoryBudgetBytes the most a session may take beyond the weights ({@code
   *     quasiroll.worker.memory-budget-bytes})
   */
  public CpuBackend(
      String id,
      ModelConfig config,
      Map<String, TensorData> tensors,
      double[] ropeInverseFrequencies,
      int threads,
      long memoryBudgetBytes) {
    this(id, config, tensors, ropeInverseFrequencies, new WorkerPool(threads), memoryBudgetBytes);
  }

  CpuBackend(
      String id,
      ModelConfig config,
      Map<String, TensorData> tensors,
      double[] ropeInverseFrequencies,
      WorkerPool pool,
      long memoryBudgetBytes) {
    TransformerWeights weights = TransformerWeights.resolve(config, tensors);
    this.pool = pool;
    this.model = new CpuTransformer(config, weights, ropeInverseFrequencies, pool);
    this.memoryBudgetBytes = memoryBudgetBytes;
    long weightBytes = 0;
    for (String name : ModelTensors.expected(config).keySet()) {
      TensorData t = tensors.get(name);
      weightBytes += t.dtype().bytesFor(t.elements());
    }
    this.memoryPlan = MemoryPlan.of(config, weightBytes);
    this.info =
        new ModelInfo(
            id,
            config.architecture(),
            config.vocabSize(),
            config.contextLength(),
            config.eosTokenIds(),
            weightBytes,
            config.kvBytesPerToken());
  }

  @Override
  public ModelInfo info() {
    return info;
  }

  @Override
  public DecodeSession open(int[] prompt, int maxSequences, int maxNewTokens) {
    return open(prompt, maxSequences, maxNewTokens, false);
  }

  @Override
  public DecodeSession openDeferred(int[] prompt, int maxSequences, int maxNewTokens) {
    return open(prompt, maxSequences, maxNewTokens, true);
  }

  /**
   * Rows of the prompts first (each prompt's last row at the end of that block, since only rows
   * logitsFrom..n-1 get logits), then the decode rows. Rows do not interact within a pass except
   * through their own sequence's cache, which every row of a layer writes before any row of that
   * layer attends, so the order does not change any row's result.
   */
  @Override
  public void step(
      List<DecodeSession> prefill,
      DecodeSession[] sessions,
      int[] sequences,
      int[] tokens,
      int n,
      float[] logits) {
    int vocab = model.config().vocabSize();
    int p = prefill.size();
    if (n < 0
        || sessions.length < n
        || sequences.length < n
        || tokens.length < n
        || logits.length < (long) n * vocab
        || p + n == 0) {
      throw new IllegalArgumentException(
          "step of "
              + n
              + " rows and "
              + p
              + " prompts needs"
              + " sessions/sequences/tokens of length >= n, logits of length >= n * "
              + vocab
              + " and at least one row");
    }
    CpuDecodeSession[] pre = new CpuDecodeSession[p];
    int early = 0;
    for (int i = 0; i < p; i++) {
      pre[i] = own(prefill.get(i));
      if (!pre[i].prefillPending || pre[i].closed() || pre[i].sharesPrompt()) {
        throw new IllegalArgumentException(
            "prefill lists a session that is closed, already" + " prefilled or listed twice");
      }
      pre[i].prefillPending = false; // catches a session listed twice; restored below
      early += pre[i].prompt.length - 1;
    }
    int rows = early + p + n;
    int[] rowTokens = new int[rows];
    int[] positions = new int[rows];
    KvSegment[][] segments = new KvSegment[rows][];
    int at = 0;
    for (CpuDecodeSession s : pre) {
      KvSegment[] own = {s.prefix};
      for (int t = 0; t < s.prompt.length - 1; t++, at++) {
        rowTokens[at] = s.prompt[t];
        positions[at] = t;
        segments[at] = own;
      }
    }
    for (CpuDecodeSession s : pre) {
      int t = s.prompt.length - 1;
      rowTokens[at] = s.prompt[t];
      positions[at] = t;
      segments[at++] = new KvSegment[] {s.prefix};
      s.prefillPending = true;
    }
    long stamp = CpuDecodeSession.STEPS.incrementAndGet();
    for (int j = 0; j < n; j++, at++) {
      rowTokens[at] = tokens[j];
      positions[at] = own(sessions[j]).prepareRow(sequences[j], tokens[j], segments, at, stamp);
    }
    float[] out = p == 0 ? logits : new float[(p + n) * vocab];
    model.forward(rows, rowTokens, positions, segments, out, early);
    if (p > 0) {
      for (int i = 0; i < p; i++) {
        pre[i].prefilled(out, i * vocab);
      }
      System.arraycopy(out, p * vocab, logits, 0, n * vocab);
    }
  }

  @Override
  public DecodeSession openSharing(DecodeSession base, int maxSequences, int maxNewTokens) {
    CpuDecodeSession b = own(base);
    if (b.closed()) {
      throw new IllegalArgumentException("cannot share the prompt of a closed session");
    }
    // The prompt was checked when base was opened; the rest as in open().
    if (maxSequences < 1 || maxNewTokens < 0) {
      throw new BadInputException(
          "a session needs maxSequences >= 1 and maxNewTokens >= 0, got "
              + maxSequences
              + " and "
              + maxNewTokens);
    }
    memoryPlan.requireFits(maxSequences, b.prompt.length, maxNewTokens, memoryBudgetBytes);
    return new CpuDecodeSession(
        b, maxSequences, Math.min(maxNewTokens, model.config().contextLength() - b.prompt.length));
  }

  @Override
  public void copySequence(DecodeSession session, int from, int to) {
    own(session).copySequence(from, to);
  }

  private CpuDecodeSession own(DecodeSession s) {
    if (s instanceof CpuDecodeSession c && c.model == model) {
      return c;
    }
    throw new IllegalArgumentException("session " + s + " does not belong to this backend");
  }

  private DecodeSession open(int[] prompt, int maxSequences, int maxNewTokens, boolean deferred) {
    ModelConfig c = model.config();
    checkPrompt(prompt);
    if (maxSequences < 1 || maxNewTokens < 0) {
      throw new BadInputException(
          "a session needs maxSequences >= 1 and maxNewTokens >= 0, got "
              + maxSequences
              + " and "
              + maxNewTokens);
    }
    memoryPlan.requireFits(maxSequences, prompt.length, maxNewTokens, memoryBudgetBytes);
    return new CpuDecodeSession(
        model,
        prompt,
        maxSequences,
        Math.min(maxNewTokens, c.contextLength() - prompt.length),
        deferred);
  }

  private void checkPrompt(int[] prompt) {
    ModelConfig c = model.config();
    if (prompt == null || prompt.length == 0) {
      throw new BadInputException("prompt is empty; at least one token is required");
    }
    if (prompt.length > c.contextLength()) {
      throw new BadInputException(
          "prompt has "
              + prompt.length
              + " tokens but model '"
              + info.id()
              + "' has a context of "
              + c.contextLength()
              + " tokens; shorten the prompt");
    }
    for (int t : prompt) {
      if (t < 0 || t >= c.vocabSize()) {
        throw new BadInputException(
            "prompt token id " + t + " is outside the vocabulary 0.." + (c.vocabSize() - 1));
      }
    }
  }

  /**
   * One prefill of the whole prompt (in chunks of {@link CpuDecodeSession#PREFILL_CHUNK} rows, as
   * {@link #open} computes it) that keeps the logits of every row, not only the last: row t's
   * arithmetic is the same as when the prompt is prefilled for decoding, so the scores agree with
   * the logits decoding starts from.
   */
  @Override
  public void prefixLogits(int[] prompt, PrefixLogits out) {
    if (prompt.length < 2) {
      return;
    }
    checkPrompt(prompt);
    memoryPlan.requireFits(1, prompt.length, 0, memoryBudgetBytes);
    ModelConfig c = model.config();
    int vocab = c.vocabSize();
    int chunk = CpuDecodeSession.PREFILL_CHUNK;
    KvSegment[] own = {new KvSegment(c.numLayers(), 0, prompt.length, model.kvDim())};
    float[] logits = new float[chunk * vocab];
    // The last prompt token predicts nothing inside the prompt: rows 0 .. length - 2 are scored.
    int rows = prompt.length - 1;
    for (int from = 0; from < rows; from += chunk) {
      int n = Math.min(chunk, rows - from);
      int[] tokens = new int[n];
      int[] positions = new int[n];
      KvSegment[][] segments = new KvSegment[n][];
      for (int r = 0; r < n; r++) {
        tokens[r] = prompt[from + r];
        positions[r] = from + r;
        segments[r] = own;
      }
      model.forward(n, tokens, positions, segments, logits, 0);
      for (int r = 0; r < n; r++) {
        out.accept(from + r, logits, r * vocab);
      }
    }
  }

  /**
   * {@link MemoryPlan#sessionBytes}: an upper bound here, since it counts the prompt's cache once
   * per sequence while this backend stores it once for all of them.
   */
  @Override
  public long sessionBytes(int promptTokens, int maxSequences, int maxNewTokens) {
    return memoryPlan.sessionBytes(maxSequences, promptTokens, maxNewTokens);
  }

  @Override
  public long memoryBudgetBytes() {
    return memoryBudgetBytes;
  }

  @Override
  public void close() {
    pool.close();
  }
}
