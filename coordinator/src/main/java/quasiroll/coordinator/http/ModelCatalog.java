package quasiroll.coordinator.http;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * What the HTTP API needs to know about a model besides its workers: its tokenizer (for /tokenize,
 * /detokenize, usage counts, logprob token strings and text offsets) and its chat template, found
 * from the model id by a loader and cached. The CLI's loader reads them on the coordinator's host
 * from the model id itself (a synthetic spec, or the model directory / .gguf file the workers
 * load), mapping weights only to reach the tokenizer.
 *
 * <p>A model the loader cannot read (a path only the workers see, a {@code loadtest:} id) still
 * serves completions; it has no tokenizer here, so token-level extras are answered by token id, and
 * /tokenize, /detokenize and chat refuse it clearly.
 */
public final class ModelCatalog {
  /**
   * @param tokenizer null when the coordinator cannot read the model
   * @param chatTemplate null when the model has none
   * @param bosToken the BOS token's text ("" when none), as templates see it
   * @param eosToken the EOS token's text ("" when none)
   * @param why when tokenizer is null: why not
   */
  public record Entry(
      ModelTokenizer tokenizer, String chatTemplate, String bosToken, String eosToken, String why) {
    public static Entry unreadable(String why) {
      return new Entry(null, null, "", "", why);
    }
  }

  private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
  private final Function<String, Entry> loader;

  /** A catalog without model access: no tokenizers, no chat. */
  public ModelCatalog() {
    this(model -> Entry.unreadable("this coordinator was started without access to model files"));
  }

  public ModelCatalog(Function<String, Entry> loader) {
    this.loader = loader;
  }

  /**
   * {@code loader} with the chat templates of {@code templates} (model id -> file) in place of the
   * models' own.
   */
  public static Function<String, Entry> withTemplates(
      Function<String, Entry> loader, java.util.Map<String, java.nio.file.Path> templates) {
    return model -> {
      Entry e = loader.apply(model);
      java.nio.file.Path file = templates.get(model);
      if (file == null) {
        return e;
      }
      try {
        return new Entry(
            e.tokenizer(),
            java.nio.file.Files.readString(file),
            e.bosToken(),
            e.eosToken(),
            e.why());
      } catch (java.io.IOException x) {
        throw new IllegalStateException(
            "chat template " + file + " cannot be read: " + x.getMessage(), x);
      }
    };
  }

  public Entry get(String model) {
    return entries.computeIfAbsent(
        model,
        m -> {
          try {
            return loader.apply(m);
          } catch (RuntimeException e) {
            return Entry.unreadable(
                "model '" + m + "' cannot be opened on the coordinator: " + e.getMessage());
          }
        });
  }
}
