package quasiroll.worker.runtime.cpu;

import java.util.Map;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.ModelConfig;
import quasiroll.worker.model.TensorData;
import quasiroll.worker.runtime.DecodeSession;
import quasiroll.worker.runtime.ModelBackend;
import quasiroll.worker.runtime.ModelInfo;
import quasiroll.worker.runtime.transformer.RopeLayout;
import quasiroll.worker.runtime.transformer.TransformerWeights;

/**
 * Llama / Qwen2 decoders on the CPU with the Java Vector API and a fixed pool of threads.
 * Weights stay in the loader's (memory-mapped) buffers in their stored dtype (F32, F16,
 * BF16, Q8_0, Q4_0) and are decoded row group by row group during each product; activations
 * and the KV cache are f32. Logits do not depend on the thread count or on which sequences
 * share a decode step.
 */
public final class CpuBackend implements ModelBackend {
  private final ModelInfo info;
  private final CpuTransformer model;
  private final WorkerPool pool;
  private final long memoryBudgetBytes;

  /**
   * @param tensors by Hugging Face name (see {@link TransformerWeights})
   * @param ropeLayout how the q/k rows of these weights pair dimensions for rotary embeddings
   * @param threads worker threads (the calling thread is one of them)
   * @param memoryBudgetBytes the most a session may take ({@code quasiroll.worker.memory-budget-bytes})
   */
  public CpuBackend(String id, ModelConfig config, Map<String, TensorData> tensors,
      RopeLayout ropeLayout, int threads, long memoryBudgetBytes) {
    TransformerWeights weights = TransformerWeights.resolve(config, tensors);
    this.pool = new WorkerPool(threads);
    this.model = new CpuTransformer(config, weights, ropeLayout, pool);
    this.memoryBudgetBytes = memoryBudgetBytes;
    this.info = new ModelInfo(id, config.architecture(), config.vocabSize(),
        config.contextLength(), config.eosTokenIds(), weights.bytes(), config.kvBytesPerToken());
  }

  @Override
  public ModelInfo info() {
    return info;
  }

  @Override
  public DecodeSession open(int[] prompt, int maxSequences, int maxNewTokens) {
    ModelConfig c = model.config();
    if (prompt == null || prompt.length == 0) {
      throw new BadInputException("prompt is empty; at least one token is required");
    }
    if (prompt.length > c.contextLength()) {
      throw new BadInputException("prompt has " + prompt.length + " tokens but model '" + info.id()
          + "' has a context of " + c.contextLength() + " tokens; shorten the prompt");
    }
    for (int t : prompt) {
      if (t < 0 || t >= c.vocabSize()) {
        throw new BadInputException("prompt token id " + t + " is outside the vocabulary 0.."
            + (c.vocabSize() - 1));
      }
    }
    if (maxSequences < 1 || maxNewTokens < 0) {
      throw new BadInputException("a session needs maxSequences >= 1 and maxNewTokens >= 0, got "
          + maxSequences + " and " + maxNewTokens);
    }
    long need = sessionBytes(prompt.length, maxSequences, maxNewTokens);
    if (need > memoryBudgetBytes) {
      throw new BadInputException(String.format(
          "a session of %d sequences x (%d prompt + %d new tokens) needs %,d bytes of KV cache and"
              + " activations, more than the worker's memory budget of %,d bytes"
              + " (quasiroll.worker.memory-budget-bytes); use fewer samples per shard or fewer"
              + " new tokens", maxSequences, prompt.length, maxNewTokens, need, memoryBudgetBytes));
    }
    return new CpuDecodeSession(model, prompt, maxSequences,
        tailCapacity(prompt.length, maxNewTokens));
  }

  private int tailCapacity(int promptTokens, int maxNewTokens) {
    return Math.min(maxNewTokens, model.config().contextLength() - promptTokens);
  }

  /**
   * Prefix cache once + a tail cache of min(maxNewTokens, context - prompt) positions per
   * sequence + activations of the larger of a prefill chunk and a full decode step (logits of
   * every sequence included) + one score row per worker thread.
   */
  @Override
  public long sessionBytes(int promptTokens, int maxSequences, int maxNewTokens) {
    ModelConfig c = model.config();
    int layers = c.numLayers();
    int kvDim = model.kvDim();
    long kv = KvSegment.bytes(layers, promptTokens, kvDim)
        + (long) maxSequences
            * KvSegment.bytes(layers, Math.max(0, tailCapacity(promptTokens, maxNewTokens)), kvDim);
    int rows = Math.max(Math.min(promptTokens, CpuDecodeSession.PREFILL_CHUNK), maxSequences);
    long activations = Float.BYTES * (model.activationFloats(rows)
        + (long) maxSequences * c.vocabSize() + (long) pool.threads() * c.contextLength());
    return kv + activations;
  }

  @Override
  public void close() {
    pool.close();
  }
}
