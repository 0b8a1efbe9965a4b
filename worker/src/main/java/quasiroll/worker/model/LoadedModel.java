package quasiroll.worker.model;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import quasiroll.worker.tokenizer.BpeTokenizer;

/**
 * A real model's weights, memory-mapped, with its config and tokenizer — whatever the file format.
 * What the forward pass can rely on:
 *
 * <ul>
 *   <li>tensors are keyed by HF names ({@link ModelTensors}) with PyTorch shapes (outermost first,
 *       Linear weights {@code [out, in]});
 *   <li><b>RoPE layout is always HF's "neox"/half-split</b>: within a head of d dims, x[i] and x[i
 *       + d/2] rotate together by {@code pos * ropeInverseFrequencies()[i]}. GGUF Llama files store
 *       q/k rows permuted for ggml's adjacent-pair RoPE; the GGUF loader undoes that on load
 *       ({@link QkPermutation}); GGUF Qwen2 and all HF files need nothing;
 *   <li>{@link #ropeInverseFrequencies()} already includes any frequency scaling (HF {@code
 *       rope_scaling: llama3}, or llama.cpp's {@code rope_freqs.weight} tensor, which GGUF Llama
 *       3.1 files carry instead of scaling metadata), so use it rather than recomputing from {@link
 *       ModelConfig#ropeTheta()};
 *   <li>{@code lm_head.weight} is absent when {@link ModelConfig#tiedEmbeddings()}: the head is
 *       then {@code model.embed_tokens.weight}.
 * </ul>
 *
 * Closing releases the file channels; the mapped tensors ({@link TensorData#segment()}) stay valid
 * until the last view of each is garbage collected ({@link ModelFileChannels#map}), so a backend
 * built from this model keeps working after it is closed.
 */
public final class LoadedModel implements AutoCloseable {
  private final ModelConfig config;
  private final Map<String, TensorData> tensors;
  private final BpeTokenizer tokenizer;
  private final Path source;
  private final String format;
  private final double[] ropeInverseFrequencies;
  private final List<AutoCloseable> resources;

  public LoadedModel(
      ModelConfig config,
      Map<String, TensorData> tensors,
      BpeTokenizer tokenizer,
      Path source,
      String format,
      double[] ropeInverseFrequencies,
      List<AutoCloseable> resources) {
    this.config = config;
    this.tensors = Collections.unmodifiableMap(tensors);
    this.tokenizer = tokenizer;
    this.source = source;
    this.format = format;
    this.ropeInverseFrequencies = ropeInverseFrequencies.clone();
    this.resources = List.copyOf(resources);
  }

  /** Formats a model file can have (quasiroll.worker.load.ModelFiles opens them), for messages. */
  public static final String SUPPORTED_FORMATS =
      "a HF model directory (config.json, tokenizer.json, model.safetensors or"
          + " model.safetensors.index.json) or a .gguf file";

  public ModelConfig config() {
    return config;
  }

  /** All tensors by HF name (plus any extra tensors the file had, under their own names). */
  public Map<String, TensorData> tensors() {
    return tensors;
  }

  /** The tensor of this HF name; fails if absent (ask {@link #tensors()} for optional ones). */
  public TensorData tensor(String name) {
    TensorData t = tensors.get(name);
    if (t == null) {
      throw new IllegalArgumentException(source + " has no tensor '" + name + "'");
    }
    return t;
  }

  /** The LM head matrix [vocab, hidden]: lm_head.weight, or the embeddings when tied. */
  public TensorData lmHead() {
    return config.tiedEmbeddings() ? tensor(ModelTensors.EMBED) : tensor(ModelTensors.LM_HEAD);
  }

  public BpeTokenizer tokenizer() {
    return tokenizer;
  }

  public Path source() {
    return source;
  }

  /** "hf-safetensors" or "gguf". */
  public String format() {
    return format;
  }

  /** headDim/2 inverse frequencies for half-split RoPE, scaling included. */
  public double[] ropeInverseFrequencies() {
    return ropeInverseFrequencies.clone();
  }

  /** Bytes of all weight tensors as stored. */
  public long weightBytes() {
    long n = 0;
    for (TensorData t : tensors.values()) {
      n += t.dtype().bytesFor(t.elements());
    }
    return n;
  }

  /** Number of weights (tied embeddings counted once). */
  public long parameterCount() {
    long n = 0;
    for (TensorData t : tensors.values()) {
      n += t.elements();
    }
    return n;
  }

  /** Element count per dtype, e.g. {Q8_0=..., F32=...}. */
  public Map<DType, Long> elementsByDType() {
    Map<DType, Long> m = new TreeMap<>();
    for (TensorData t : tensors.values()) {
      m.merge(t.dtype(), t.elements(), Long::sum);
    }
    return m;
  }

  public MemoryPlan memoryPlan() {
    return MemoryPlan.of(config, weightBytes());
  }

  @Override
  public void close() {
    for (AutoCloseable r : resources) {
      try {
        r.close();
      } catch (Exception ignored) {
        // read-only channels: nothing to lose
      }
    }
  }
}
