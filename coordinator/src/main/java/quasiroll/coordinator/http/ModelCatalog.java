package quasiroll.coordinator.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import quasiroll.common.synthetic.MarkovModel;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.model.gguf.GgufFile;
import quasiroll.worker.tokenizer.BpeTokenizer;
import quasiroll.worker.tokenizer.SyntheticTokenizer;
import quasiroll.worker.tokenizer.Tokenizer;

/**
 * What the HTTP API needs to know about a model besides its workers: its tokenizer (for
 * /tokenize, /detokenize, usage counts, logprob token strings and text offsets) and its chat
 * template. Read on the coordinator from the model id itself — a synthetic spec, or a model
 * directory / .gguf file the coordinator can read (the same path the workers load) — and
 * cached. Weights are mapped only to reach the tokenizer, never computed with.
 *
 * <p>A model whose files the coordinator cannot read (a path only the workers see, or a
 * {@code loadtest:} id) still serves completions; it has no tokenizer here, so token-level
 * extras are answered by token id, and /tokenize, /detokenize and chat refuse it clearly.
 */
public final class ModelCatalog {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * @param tokenizer null when the coordinator cannot read the model
   * @param chatTemplate null when the model has none
   * @param bosToken the BOS token's text ("" when none), as templates see it
   * @param eosToken the EOS token's text ("" when none)
   * @param why when tokenizer is null: why not
   */
  public record Entry(Tokenizer tokenizer, String chatTemplate, String bosToken, String eosToken, String why) {}

  private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
  private final Map<String, Path> templateOverrides;

  public ModelCatalog() {
    this(Map.of());
  }

  /** @param templateOverrides model id -> chat template file used instead of the model's own */
  public ModelCatalog(Map<String, Path> templateOverrides) {
    this.templateOverrides = Map.copyOf(templateOverrides);
  }

  public Entry get(String model) {
    return entries.computeIfAbsent(model, m -> {
      Entry e = load(m);
      Path override = templateOverrides.get(m);
      if (override == null) {
        return e;
      }
      try {
        return new Entry(e.tokenizer(), Files.readString(override), e.bosToken(), e.eosToken(), e.why());
      } catch (IOException x) {
        throw new IllegalStateException("chat template " + override + " cannot be read: " + x.getMessage(), x);
      }
    });
  }

  static Entry load(String model) {
    if (model.startsWith("synthetic:")) {
      try {
        return new Entry(new SyntheticTokenizer(MarkovModel.parse(model).vocabSize()), null, "", "", "");
      } catch (RuntimeException e) {
        return new Entry(null, null, "", "", e.getMessage());
      }
    }
    Path path;
    try {
      path = Path.of(model);
    } catch (RuntimeException e) {
      return new Entry(null, null, "", "", "model id '" + model + "' is not a path the coordinator can read");
    }
    if (!Files.exists(path)) {
      return new Entry(null, null, "", "", "the coordinator cannot read model '" + model
          + "' (not a synthetic spec nor a model directory or .gguf file on this host)");
    }
    try (LoadedModel m = LoadedModel.open(path)) {
      BpeTokenizer t = m.tokenizer();
      String bos = t.bosId() >= 0 ? t.tokenString(t.bosId()) : "";
      String eos = t.eosIds().isEmpty() ? "" : t.tokenString(t.eosIds().iterator().next());
      TemplateInfo info = Files.isDirectory(path) ? hfTemplate(path) : ggufTemplate(path);
      return new Entry(t, info.template, info.bos != null ? info.bos : bos, info.eos != null ? info.eos : eos, "");
    } catch (RuntimeException e) {
      return new Entry(null, null, "", "", "model '" + model + "' cannot be opened on the coordinator: " + e.getMessage());
    }
  }

  private record TemplateInfo(String template, String bos, String eos) {}

  /**
   * tokenizer_config.json: {@code chat_template} is a string, or a list of {name, template}
   * (the one named "default" is used, as transformers does); bos/eos tokens are strings or
   * AddedToken objects ({"content": ...}). A separate chat_template.jinja file (newer
   * transformers) is used when the config has none.
   */
  private static TemplateInfo hfTemplate(Path dir) {
    Path cfg = dir.resolve("tokenizer_config.json");
    String template = null;
    String bos = null;
    String eos = null;
    if (Files.isRegularFile(cfg)) {
      try {
        JsonNode tc = JSON.readTree(cfg.toFile());
        JsonNode ct = tc.get("chat_template");
        if (ct != null && ct.isTextual()) {
          template = ct.asText();
        } else if (ct != null && ct.isArray()) {
          for (JsonNode e : ct) {
            if ("default".equals(e.path("name").asText())) {
              template = e.path("template").asText();
            }
          }
        }
        bos = tokenText(tc.get("bos_token"));
        eos = tokenText(tc.get("eos_token"));
      } catch (IOException e) {
        throw new IllegalStateException(cfg + " cannot be read: " + e.getMessage(), e);
      }
    }
    Path jinja = dir.resolve("chat_template.jinja");
    if (template == null && Files.isRegularFile(jinja)) {
      try {
        template = Files.readString(jinja);
      } catch (IOException e) {
        throw new IllegalStateException(jinja + " cannot be read: " + e.getMessage(), e);
      }
    }
    return new TemplateInfo(template, bos, eos);
  }

  private static String tokenText(JsonNode t) {
    if (t == null || t.isNull()) {
      return null;
    }
    return t.isTextual() ? t.asText() : t.path("content").asText(null);
  }

  private static TemplateInfo ggufTemplate(Path file) {
    try (GgufFile g = GgufFile.open(file)) {
      Optional<String> t = Optional.ofNullable(g.metadata().getString("tokenizer.chat_template", null));
      return new TemplateInfo(t.orElse(null), null, null);
    }
  }
}
