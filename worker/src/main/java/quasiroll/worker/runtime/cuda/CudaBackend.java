package quasiroll.worker.runtime.cuda;

import java.util.Map;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.model.ModelConfig;
import quasiroll.worker.model.TensorData;
import quasiroll.worker.runtime.DecodeSession;
import quasiroll.worker.runtime.ModelBackend;
import quasiroll.worker.runtime.ModelInfo;
import quasiroll.worker.runtime.transformer.TransformerWeights;

/**
 * A Llama/Qwen2-family model on one NVIDIA GPU ({@code --device cuda:N}), through the JCuda driver
 * API and the committed PTX kernels; nothing else from the CUDA toolkit is needed at run time (no
 * NVRTC, no cuBLAS): only the driver's libcuda.so.1.
 *
 * <p>Numerics (docs/gpu-backend.md): 16-bit weights as stored, everything else f32; the tensor-core
 * matmul multiplies split hi/lo activations so results track the CPU backend's f32 math. Every
 * reduction has a fixed order and no kernel uses floating-point atomics, so the same inputs give
 * the same bits run to run on the same GPU model and driver, and a sequence's logits do not depend
 * on the other sequences of its batch.
 *
 * <p>Sessions may be opened and driven on different threads (one thread per session at a time);
 * they share the weights and the loaded kernels and nothing else.
 */
public final class CudaBackend implements ModelBackend {
  private final CudaDevice device;
  private final ModelConfig config;
  private final ModelInfo info;
  private final CudaWeights weights;
  private final CudaTransformer transformer;

  private CudaBackend(
      String id, CudaDevice device, ModelConfig config, CudaWeights weights, long weightBytes) {
    this.device = device;
    this.config = config;
    this.weights = weights;
    this.transformer = new CudaTransformer(device, config, weights);
    device.function("sampling", "coupled_sample"); // JIT up front, not in the first shard
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

  /** A loaded HF directory or GGUF file (F16/BF16/F32 weights) on {@code cuda:deviceIndex}. */
  public static CudaBackend of(String id, LoadedModel m, int deviceIndex) {
    return load(id, m.config(), m.tensors(), m.ropeInverseFrequencies(), deviceIndex);
  }

  /**
   * Uploads a model to {@code cuda:deviceIndex}.
   *
   * @param tensors by Hugging Face name (see {@link TransformerWeights}), q/k rows in HF
   *     (half-split RoPE) order, as the loaders deliver them
   * @param ropeInverseFrequencies headDim/2 inverse frequencies, any scaling applied
   * @throws CudaUnavailableException when JCuda, the driver or the device is missing
   * @throws BadInputException when the model's shape is unsupported or its weights do not fit
   */
  public static CudaBackend load(
      String id,
      ModelConfig config,
      Map<String, TensorData> tensors,
      double[] ropeInverseFrequencies,
      int deviceIndex) {
    requireSupported(config);
    if (ropeInverseFrequencies.length != config.headDim() / 2) {
      throw new IllegalArgumentException(
          "rope inverse frequencies: "
              + ropeInverseFrequencies.length
              + " given, headDim/2 = "
              + config.headDim() / 2
              + " needed");
    }
    TransformerWeights structure = TransformerWeights.resolve(config, tensors);
    requireDeviceTypes(structure); // before touching the GPU: a quantised model is bad input
    long weightBytes = CudaMemoryBudget.weightBytes(config, structure.embedding().dtype());
    CudaDevice device = CudaDevice.open(deviceIndex);
    try {
      CudaMemoryBudget.requireFits(
          "model " + id + " (weights)",
          weightBytes,
          device.freeBytes(),
          device.toString(),
          "use a GPU with more memory, a smaller model, or --device cpu");
      CudaWeights weights = new CudaWeights(device, config, structure, ropeInverseFrequencies);
      CudaBackend b = new CudaBackend(id, device, config, weights, weightBytes);
      device.synchronize();
      return b;
    } catch (RuntimeException e) {
      device.close();
      throw e;
    }
  }

  private static void requireDeviceTypes(TransformerWeights w) {
    CudaWeights.deviceType(w.lmHead());
    for (TransformerWeights.Layer l : w.layers()) {
      for (TensorData t :
          new TensorData[] {l.q(), l.k(), l.v(), l.o(), l.gate(), l.up(), l.down()}) {
        CudaWeights.deviceType(t);
      }
    }
  }

  /** Shapes the kernels handle; anything else is refused up front with the reason. */
  static void requireSupported(ModelConfig c) {
    String arch = c.architecture();
    if (!arch.equals("llama") && !arch.equals("qwen2")) {
      throw new BadInputException(
          "architecture '"
              + arch
              + "' is not supported by the CUDA backend"
              + " (expected llama or qwen2)");
    }
    int hd = c.headDim();
    if (hd % 32 != 0 || hd > 256) {
      throw new BadInputException(
          "head dimension "
              + hd
              + " is not supported by the CUDA"
              + " attention kernel (expected a multiple of 32, at most 256)");
    }
    if (c.numKvHeads() <= 0 || c.numHeads() % c.numKvHeads() != 0) {
      throw new BadInputException(
          "attention heads "
              + c.numHeads()
              + " / kv heads "
              + c.numKvHeads()
              + ": the CUDA backend needs heads to be a multiple of kv heads");
    }
    if (c.hiddenSize() % 8 != 0 || c.intermediateSize() % 8 != 0 || (c.numHeads() * hd) % 8 != 0) {
      throw new BadInputException(
          "hidden size "
              + c.hiddenSize()
              + " and intermediate size "
              + c.intermediateSize()
              + " must be multiples of 8 for the CUDA matmul");
    }
  }

  @Override
  public ModelInfo info() {
    return info;
  }

  @Override
  public DecodeSession open(int[] prompt, int maxSequences, int maxNewTokens) {
    if (prompt == null || prompt.length == 0) {
      throw new BadInputException("prompt is empty: at least one token is needed");
    }
    if (maxSequences < 1 || maxNewTokens < 1) {
      throw new BadInputException(
          "session of "
              + maxSequences
              + " sequences x "
              + maxNewTokens
              + " new tokens: both must be >= 1");
    }
    if ((long) prompt.length + maxNewTokens > config.contextLength()) {
      throw new BadInputException(
          "prompt of "
              + prompt.length
              + " tokens + "
              + maxNewTokens
              + " new tokens exceeds the model's context of "
              + config.contextLength()
              + " tokens");
    }
    device.bind();
    long need = sessionBytes(prompt.length, maxSequences, maxNewTokens);
    CudaMemoryBudget.requireFits(
        "a shard of "
            + maxSequences
            + " sequences x ("
            + prompt.length
            + " prompt + "
            + maxNewTokens
            + " new tokens)",
        need,
        device.freeBytes(),
        device.toString(),
        "use smaller shards (fewer sequences or max-new-tokens)");
    return new CudaDecodeSession(device, transformer, config, prompt, maxSequences, maxNewTokens);
  }

  @Override
  public long sessionBytes(int promptTokens, int maxSequences, int maxNewTokens) {
    return CudaMemoryBudget.sessionBytes(config, promptTokens, maxSequences, maxNewTokens);
  }

  /** e.g. "cuda:0 (NVIDIA H100 80GB HBM3, 81559 MiB)". */
  public String deviceDescription() {
    return device.toString();
  }

  @Override
  public void close() {
    device.bind();
    weights.close();
    device.close();
  }
}
