package quasiroll.worker.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.load.ModelFiles;
import quasiroll.worker.model.fixture.HfFixtureWriter;
import quasiroll.worker.model.fixture.TinyModel;
import quasiroll.worker.model.fixture.TinyModelSpec;
import quasiroll.worker.model.safetensors.SafetensorsWriter;

/** Each broken HF model directory fails with a BadInputException that names the file. */
class HfBadInputTest {
  private static final TinyModel MODEL = TinyModel.generate(TinyModelSpec.llamaGqa(5));
  @TempDir Path tmp;
  Path dir;

  @BeforeEach
  void fixture() throws IOException {
    dir = HfFixtureWriter.write(MODEL, tmp.resolve("m"), DType.F32);
  }

  private static String fails(Path p, String... mustContain) {
    BadInputException e = assertThrows(BadInputException.class, () -> ModelFiles.open(p).close());
    for (String s : mustContain) {
      assertTrue(e.getMessage().contains(s), "'" + s + "' not in: " + e.getMessage());
    }
    return e.getMessage();
  }

  private void replace(String file, String from, String to) throws IOException {
    Path f = dir.resolve(file);
    String s = Files.readString(f);
    assertTrue(s.contains(from), from);
    Files.writeString(f, s.replace(from, to));
  }

  @Test
  void missingPathAndWrongKindOfFile() throws IOException {
    fails(tmp.resolve("nope"), "nope", "does not exist");
    Path txt = Files.writeString(tmp.resolve("model.txt"), "hi");
    fails(txt, "model.txt", ".gguf");
  }

  @Test
  void missingFiles() throws IOException {
    Files.delete(dir.resolve("tokenizer.json"));
    fails(dir, "tokenizer.json is missing");
    Files.delete(dir.resolve("model.safetensors"));
    Files.delete(dir.resolve("config.json"));
    fails(dir, "config.json is missing");
  }

  @Test
  void aMissingHeadIsAnErrorNamingTheTensorUnlessEmbeddingsAreTied() throws IOException {
    SafetensorsWriter w = new SafetensorsWriter();
    for (var e : MODEL.weights().entrySet()) {
      if (!e.getKey().equals("lm_head.weight")) {
        w.add(
            e.getKey(),
            DType.F32,
            MODEL.shape(e.getKey()),
            DTypeCodec.encode(DType.F32, e.getValue()));
      }
    }
    w.write(dir.resolve("model.safetensors"));
    fails(dir, "tensor 'lm_head.weight' is missing", "tie_word_embeddings false");
    replace("config.json", "\"tie_word_embeddings\" : false", "\"tie_word_embeddings\" : true");
    try (LoadedModel m = ModelFiles.open(dir)) {
      assertTrue(m.config().tiedEmbeddings());
    }
  }

  @Test
  void missingWeights() throws IOException {
    Files.delete(dir.resolve("model.safetensors"));
    fails(dir, "model.safetensors", "no weights");
  }

  @Test
  void unsupportedArchitectureListsTheSupportedOnes() throws IOException {
    replace("config.json", "\"model_type\" : \"llama\"", "\"model_type\" : \"mistral\"");
    fails(dir, "config.json", "mistral", "llama (LlamaForCausalLM), qwen2");
  }

  @Test
  void architectureFromTheClassNameWhenModelTypeIsAbsent() throws IOException {
    replace("config.json", "\"model_type\" : \"llama\",", "");
    try (LoadedModel m = ModelFiles.open(dir)) {
      org.junit.jupiter.api.Assertions.assertEquals("llama", m.config().architecture());
    }
    replace("config.json", "LlamaForCausalLM", "GemmaForCausalLM");
    fails(dir, "config.json", "GemmaForCausalLM", "llama (LlamaForCausalLM), qwen2");
  }

  @Test
  void unsupportedRopeScaling() throws IOException {
    replace(
        "config.json",
        "\"rms_norm_eps\"",
        "\"rope_scaling\" : {\"rope_type\": \"yarn\", \"factor\": 4}, \"rms_norm_eps\"");
    fails(dir, "config.json", "yarn", "llama3");
  }

  @Test
  void invalidJsonConfig() throws IOException {
    Files.writeString(dir.resolve("config.json"), "{ \"model_type\": ");
    fails(dir, "config.json", "invalid JSON");
  }

  @Test
  void configThatDisagreesWithTheWeights() throws IOException {
    replace("config.json", "\"intermediate_size\" : 128", "\"intermediate_size\" : 96");
    fails(dir, "mlp.gate_proj.weight", "shape");
  }

  // ---- safetensors corruption; the data section of the fixture is kept, the header varies

  private Path weights() {
    return dir.resolve("model.safetensors");
  }

  private void writeSafetensors(long headerLen, String header, byte[] data) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(headerLen).put(h).put(data);
    Files.write(weights(), b.array());
  }

  @Test
  void safetensorsShorterThanItsHeaderLength() throws IOException {
    Files.write(weights(), new byte[] {1, 2, 3});
    fails(dir, "model.safetensors", "shorter than the 8-byte header");
  }

  @Test
  void safetensorsBadHeaderLength() throws IOException {
    writeSafetensors(-5, "{}", new byte[0]);
    fails(dir, "model.safetensors", "bad safetensors header length");
  }

  @Test
  void safetensorsHeaderPastTheEnd() throws IOException {
    writeSafetensors(5000, "{}", new byte[0]);
    fails(dir, "model.safetensors", "runs past the end");
  }

  @Test
  void safetensorsHeaderNotJson() throws IOException {
    writeSafetensors(9, "{\"a\": [1,", new byte[0]);
    fails(dir, "model.safetensors", "not valid JSON");
  }

  @Test
  void safetensorsOffsetsOutOfRange() throws IOException {
    String h = "{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
    writeSafetensors(h.length(), h, new byte[8]);
    fails(dir, "model.safetensors", "'x'", "outside the data section");
  }

  @Test
  void safetensorsOffsetsDisagreeWithShape() throws IOException {
    String h = "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}";
    writeSafetensors(h.length(), h, new byte[16]);
    fails(dir, "model.safetensors", "'x'", "needs 12");
  }

  @Test
  void safetensorsUnsupportedDtype() throws IOException {
    String h = "{\"x\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}";
    writeSafetensors(h.length(), h, new byte[16]);
    fails(dir, "model.safetensors", "I64", "F32, F16, BF16");
  }

  @Test
  void shardIndexNamingAMissingTensor() throws IOException {
    Files.move(weights(), dir.resolve("shard.safetensors"));
    Files.writeString(
        dir.resolve("model.safetensors.index.json"),
        "{\"weight_map\": {\"model.norm.weight\": \"shard.safetensors\", \"ghost\":"
            + " \"shard.safetensors\"}}");
    fails(dir, "model.safetensors.index.json", "'ghost'");
  }
}
