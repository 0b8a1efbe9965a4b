package quasiroll.worker.model.gguf;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.DTypeCodec;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.model.ModelConfig;
import quasiroll.worker.model.ModelTensors;
import quasiroll.worker.model.QkPermutation;
import quasiroll.worker.model.RopeFrequencies;
import quasiroll.worker.model.TensorData;
import quasiroll.worker.tokenizer.BpeTokenizer;

/**
 * Loads a Llama or Qwen2 GGUF file (as llama.cpp's convert_hf_to_gguf.py writes it) into HF tensor
 * names and layout: names mapped by {@link GgufTensorNames}, dims reversed, and Llama's q/k rows
 * un-permuted ({@link QkPermutation}) so that every loaded model uses half-split RoPE. Llama 3.1
 * frequency scaling arrives as the {@code rope_freqs.weight} tensor (divisors of the inverse
 * frequencies), which is folded into {@link LoadedModel#ropeInverseFrequencies()}.
 */
public final class GgufModelLoader {
  public static final String SUPPORTED_ARCHITECTURES = "llama, qwen2";

  private GgufModelLoader() {}

  public static LoadedModel load(Path path) {
    GgufFile file = GgufFile.open(path);
    try {
      return load(file);
    } catch (RuntimeException e) {
      file.close();
      throw e;
    }
  }

  private static LoadedModel load(GgufFile file) {
    Path path = file.path();
    GgufMetadata md = file.metadata();
    String arch = md.getString("general.architecture");
    if (!arch.equals("llama") && !arch.equals("qwen2")) {
      throw new BadInputException(
          path
              + ": GGUF architecture '"
              + arch
              + "' is not supported (supported: "
              + SUPPORTED_ARCHITECTURES
              + ")");
    }
    String scaling = md.getString(arch + ".rope.scaling.type", "none");
    if (!scaling.equals("none")) {
      throw new BadInputException(
          path
              + ": "
              + arch
              + ".rope.scaling.type '"
              + scaling
              + "' is not supported"
              + " (supported: none; Llama 3.1 scaling comes as the rope_freqs tensor)");
    }
    BpeTokenizer tokenizer = GgufTokenizerLoader.load(md, path.toString());

    Map<String, GgufTensorInfo> byGgufName = new LinkedHashMap<>();
    for (GgufTensorInfo t : file.tensors()) {
      byGgufName.put(t.name(), t);
    }
    GgufTensorInfo embed = byGgufName.get("token_embd.weight");
    if (embed == null) {
      throw new BadInputException(path + ": tensor 'token_embd.weight' is missing");
    }
    int hidden = md.getInt(arch + ".embedding_length");
    int heads = md.getInt(arch + ".attention.head_count");
    int kvHeads = md.getInt(arch + ".attention.head_count_kv", heads);
    int headDim = md.getInt(arch + ".attention.key_length", hidden / heads);
    long vocab = embed.dims()[embed.dims().length - 1];
    ModelConfig config =
        new ModelConfig(
            arch,
            (int) vocab,
            hidden,
            md.getInt(arch + ".feed_forward_length"),
            md.getInt(arch + ".block_count"),
            heads,
            kvHeads,
            headDim,
            md.getInt(arch + ".context_length"),
            md.getDouble(arch + ".rope.freq_base", 10000.0),
            null,
            md.getDouble(arch + ".attention.layer_norm_rms_epsilon", 1e-5),
            byGgufName.containsKey("blk.0.attn_q.bias"),
            !byGgufName.containsKey("output.weight"),
            tokenizer.bosId(),
            tokenizer.eosIds());

    Map<String, TensorData> tensors = new LinkedHashMap<>();
    for (GgufTensorInfo info : file.tensors()) {
      String hfName = GgufTensorNames.toHf(info.name());
      TensorData t = file.map(info, hfName);
      if (arch.equals("llama")) {
        t = unpermuteLlamaQk(t, info.name(), heads, kvHeads);
      }
      tensors.put(hfName, t);
    }
    ModelTensors.validate(config, tensors, path);
    double[] inv = RopeFrequencies.inverse(config);
    TensorData ropeFreqs = tensors.get(GgufTensorNames.ROPE_FREQS);
    if (ropeFreqs != null) {
      float[] factors = DTypeCodec.toFloats(ropeFreqs);
      if (factors.length != inv.length) {
        throw new BadInputException(
            path + ": rope_freqs.weight has " + factors.length + " values, expected " + inv.length);
      }
      for (int i = 0; i < inv.length; i++) {
        inv[i] /= factors[i];
      }
    }
    return new LoadedModel(config, tensors, tokenizer, path, "gguf", inv, List.of(file));
  }

  private static final Pattern QK = Pattern.compile("blk\\.\\d+\\.attn_([qk])\\.(weight|bias)");

  private static TensorData unpermuteLlamaQk(
      TensorData t, String ggufName, int heads, int kvHeads) {
    Matcher m = QK.matcher(ggufName);
    if (!m.matches()) {
      return t;
    }
    int h = m.group(1).equals("q") ? heads : kvHeads;
    return new TensorData(t.name(), t.dtype(), t.shape(), QkPermutation.toHf(t, h));
  }
}
