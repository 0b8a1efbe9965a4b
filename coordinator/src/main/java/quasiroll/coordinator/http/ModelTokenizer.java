package quasiroll.coordinator.http;

/**
 * A model's tokenizer as the HTTP API needs it. The coordinator does not depend on the worker
 * runtime: the process that starts it (the CLI) supplies a {@link ModelCatalog} loader that adapts
 * the worker's tokenizers to this interface.
 */
public interface ModelTokenizer {
  /** Token ids of a text prompt, exactly as a worker encodes one (special tokens recognised). */
  int[] encode(String text);

  /** As {@link #encode}, with the BOS token first when the model adds one. */
  int[] encodeWithBos(String text);

  String decode(int[] ids);

  int vocabSize();

  /** Per-sample incremental decoding: push returns the text a token completes. */
  StreamingDecoder streamingDecoder();

  interface StreamingDecoder {
    String push(int token);

    String finish();
  }
}
