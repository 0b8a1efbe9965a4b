package quasiroll.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import quasiroll.common.synthetic.MarkovModel;
import quasiroll.coordinator.http.ModelCatalog;
import quasiroll.coordinator.http.ModelTokenizer;
import quasiroll.worker.load.ModelFiles;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.model.gguf.GgufFile;
import quasiroll.worker.tokenizer.BpeTokenizer;
import quasiroll.worker.tokenizer.SyntheticTokenizer;
import quasiroll.worker.tokenizer.Tokenizer;

/**
 * The coordinator's view of a model's files for its HTTP API (the coordinator itself does not
 * depend on the worker runtime): the tokenizer, read with the worker's loaders from the model id (a
 * synthetic spec, or a model directory / .gguf file on this host), and the chat template — {@code
 * chat_template} of tokenizer_config.json (a string, or the entry named "default" of a list), a
 * chat_template.jinja file, or the GGUF {@code tokenizer.chat_template}.
 */
final class WorkerModelFiles {
  private static final ObjectMapper JSON = new ObjectMapper();

  private WorkerModelFiles() {}

  static ModelCatalog.Entry load(String model) {
    if (model.startsWith("synthetic:")) {
      return new ModelCatalog.Entry(
          adapt(new SyntheticTokenizer(MarkovModel.parse(model).vocabSize()), null),
          null,
          "",
          "",
          "");
    }
    Path path;
    try {
      path = Path.of(model);
    } catch (RuntimeException e) {
      return ModelCatalog.Entry.unreadable(
          "model id '" + model + "' is not a path the coordinator can read");
    }
    if (!Files.exists(path)) {
      return ModelCatalog.Entry.unreadable(
          "the coordinator cannot read model '"
              + model
              + "' (not a synthetic spec nor a model directory or .gguf file on this host)");
    }
    try (LoadedModel m = ModelFiles.open(path)) {
      BpeTokenizer t = m.tokenizer();
      String bos = t.bosId() >= 0 ? t.tokenString(t.bosId()) : "";
      String eos = t.eosIds().isEmpty() ? "" : t.tokenString(t.eosIds().iterator().next());
      String template;
      if (Files.isDirectory(path)) {
        JsonNode tc = tokenizerConfig(path);
        template = hfTemplate(path, tc);
        bos = orElse(tokenText(tc.get("bos_token")), bos);
        eos = orElse(tokenText(tc.get("eos_token")), eos);
      } else {
        try (GgufFile g = GgufFile.open(path)) {
          template = g.metadata().getString("tokenizer.chat_template", null);
        }
      }
      return new ModelCatalog.Entry(adapt(t, t), template, bos, eos, "");
    }
  }

  private static ModelTokenizer adapt(Tokenizer t, BpeTokenizer bpe) {
    return new ModelTokenizer() {
      @Override
      public int[] encode(String text) {
        return t.encode(text);
      }

      @Override
      public int[] encodeWithBos(String text) {
        return t.encodePrompt(text);
      }

      @Override
      public String decode(int[] ids) {
        return t.decode(ids);
      }

      @Override
      public int vocabSize() {
        return t.vocabSize();
      }

      @Override
      public StreamingDecoder streamingDecoder() {
        Tokenizer.StreamingDecoder d = t.streamingDecoder();
        return new StreamingDecoder() {
          @Override
          public String push(int token) {
            return d.push(token);
          }

          @Override
          public String finish() {
            return d.finish();
          }
        };
      }
    };
  }

  private static JsonNode tokenizerConfig(Path dir) {
    Path cfg = dir.resolve("tokenizer_config.json");
    if (!Files.isRegularFile(cfg)) {
      return JSON.createObjectNode();
    }
    try {
      return JSON.readTree(cfg.toFile());
    } catch (IOException e) {
      throw new IllegalStateException(cfg + " cannot be read: " + e.getMessage(), e);
    }
  }

  private static String hfTemplate(Path dir, JsonNode tc) {
    JsonNode ct = tc.get("chat_template");
    if (ct != null && ct.isTextual()) {
      return ct.asText();
    }
    if (ct != null && ct.isArray()) {
      for (JsonNode e : ct) {
        if ("default".equals(e.path("name").asText())) {
          return e.path("template").asText();
        }
      }
    }
    Path jinja = dir.resolve("chat_template.jinja");
    if (Files.isRegularFile(jinja)) {
      try {
        return Files.readString(jinja);
      } catch (IOException e) {
        throw new IllegalStateException(jinja + " cannot be read: " + e.getMessage(), e);
      }
    }
    return null;
  }

  private static String tokenText(JsonNode t) {
    if (t == null || t.isNull()) {
      return null;
    }
    return t.isTextual() ? t.asText() : t.path("content").asText(null);
  }

  private static String orElse(String a, String b) {
    return a != null ? a : b;
  }
}
