package quasiroll.worker.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.model.ModelConfig;
import quasiroll.worker.model.ModelTensors;
import quasiroll.worker.model.RopeFrequencies;
import quasiroll.worker.model.TensorData;
import quasiroll.worker.model.safetensors.SafetensorsFile;
import quasiroll.worker.tokenizer.BpeTokenizer;

/**
 * Loads a HF model directory: {@code config.json}, {@code generation_config.json} (optional: more
 * EOS ids), the tokenizer files, and the weights from {@code model.safetensors} or the shards
 * listed in {@code model.safetensors.index.json}, each tensor memory-mapped.
 */
public final class HfModelLoader {
  private HfModelLoader() {}

  public static LoadedModel load(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new BadInputException("model directory '" + dir + "' does not exist");
    }
    Path configFile = dir.resolve("config.json");
    if (!Files.isRegularFile(configFile)) {
      throw new BadInputException(
          dir
              + ": config.json is missing (expected a HF model directory with config.json,"
              + " tokenizer.json and model.safetensors)");
    }
    JsonNode configJson = JsonFiles.read(configFile);
    HfConfigParser.SpecialIds ids = HfConfigParser.specialIds(configJson);
    int bos = ids.bos();
    Set<Integer> eos = new LinkedHashSet<>(ids.eos());
    Path genFile = dir.resolve("generation_config.json");
    if (Files.isRegularFile(genFile)) {
      HfConfigParser.SpecialIds gen = HfConfigParser.specialIds(JsonFiles.read(genFile));
      bos = gen.bos() >= 0 ? gen.bos() : bos;
      eos.addAll(gen.eos());
    }
    // the architecture is checked before anything heavy is read
    ModelConfig probe = HfConfigParser.parse(configFile, configJson, bos, eos);
    BpeTokenizer tokenizer = HfTokenizerLoader.load(dir, bos, eos);

    List<SafetensorsFile> files = new ArrayList<>();
    try {
      Map<String, TensorData> tensors = readWeights(dir, files);
      // tie_word_embeddings false (or absent: false is the default of transformers'
      // LlamaConfig and Qwen2Config) means the checkpoint must carry its own head. Tying it
      // silently to the embeddings would decode a different model than transformers does.
      boolean tied = probe.tiedEmbeddings();
      if (!tied && !tensors.containsKey(ModelTensors.LM_HEAD)) {
        throw new BadInputException(
            dir
                + ": tensor '"
                + ModelTensors.LM_HEAD
                + "' is missing but config.json has tie_word_embeddings "
                + (configJson.has("tie_word_embeddings") ? "false" : "absent (default false)")
                + ": expected the tensor, or tie_word_embeddings: true if the head is the embedding"
                + " matrix");
      }
      ModelConfig config =
          new ModelConfig(
              probe.architecture(),
              probe.vocabSize(),
              probe.hiddenSize(),
              probe.intermediateSize(),
              probe.numLayers(),
              probe.numHeads(),
              probe.numKvHeads(),
              probe.headDim(),
              probe.contextLength(),
              probe.ropeTheta(),
              probe.ropeScaling(),
              probe.rmsNormEps(),
              probe.qkvBias(),
              tied,
              tokenizer.bosId(),
              tokenizer.eosIds());
      if (tied) {
        tensors.remove(ModelTensors.LM_HEAD);
      }
      ModelTensors.validate(config, tensors, dir);
      return new LoadedModel(
          config,
          tensors,
          tokenizer,
          dir,
          "hf-safetensors",
          RopeFrequencies.inverse(config),
          new ArrayList<>(files));
    } catch (RuntimeException e) {
      files.forEach(SafetensorsFile::close);
      throw e;
    }
  }

  private static Map<String, TensorData> readWeights(Path dir, List<SafetensorsFile> opened) {
    Path index = dir.resolve("model.safetensors.index.json");
    Path single = dir.resolve("model.safetensors");
    Map<String, TensorData> tensors = new LinkedHashMap<>();
    if (Files.isRegularFile(index)) {
      JsonNode weightMap = JsonFiles.read(index).path("weight_map");
      if (!weightMap.isObject() || weightMap.isEmpty()) {
        throw new BadInputException(index + ": 'weight_map' is missing or empty");
      }
      Map<String, String> nameToFile = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String shard = e.getValue().asText();
        if (shard.contains("/") || shard.contains("\\") || shard.startsWith(".")) {
          throw new BadInputException(
              index + ": shard name '" + shard + "' is not a plain file name");
        }
        nameToFile.put(e.getKey(), shard);
      }
      for (String shard : new TreeSet<>(nameToFile.values())) {
        SafetensorsFile f = SafetensorsFile.open(dir.resolve(shard));
        opened.add(f);
        tensors.putAll(f.tensors());
      }
      for (String name : nameToFile.keySet()) {
        if (!tensors.containsKey(name)) {
          throw new BadInputException(
              index
                  + ": tensor '"
                  + name
                  + "' is listed in shard '"
                  + nameToFile.get(name)
                  + "' but that file does not hold it");
        }
      }
    } else if (Files.isRegularFile(single)) {
      SafetensorsFile f = SafetensorsFile.open(single);
      opened.add(f);
      tensors.putAll(f.tensors());
    } else {
      String hint =
          Files.exists(dir.resolve("pytorch_model.bin"))
              ? " (pytorch_model.bin is not supported: convert it to safetensors)"
              : "";
      throw new BadInputException(
          dir
              + ": no weights: neither model.safetensors nor model.safetensors.index.json"
              + " exists"
              + hint);
    }
    return tensors;
  }
}
