package quasiroll.worker.tokenizer;

/** Text to token ids and back, for one model's vocabulary. */
public interface Tokenizer {
  /**
   * Encodes text as it stands; special tokens written literally in the text are recognised. Adds
   * nothing: use {@link #encodePrompt} for a prompt.
   */
  int[] encode(String text);

  /**
   * A text prompt's ids as the model's tokenizer configuration says a prompt is encoded: the one
   * place that decides whether BOS is prepended (HF {@code tokenizer_config.json} {@code
   * add_bos_token}, else the {@code post_processor} template; GGUF {@code
   * tokenizer.ggml.add_bos_token}). Every path that turns a text prompt into ids (the decoder, so
   * the CLI, cluster jobs, sweeps and the demo) goes through here; prompts given as token ids are
   * used as they are and never come here.
   */
  int[] encodePrompt(String text);

  /** Decodes ids to text; invalid UTF-8 byte sequences become U+FFFD. */
  String decode(int[] ids);

  int vocabSize();

  /**
   * A per-sample incremental decoder: {@link StreamingDecoder#push(int)} returns the text completed
   * by that token, holding back bytes of an unfinished UTF-8 character.
   */
  StreamingDecoder streamingDecoder();

  interface StreamingDecoder {
    String push(int token);

    /** Whatever is held back, flushed (incomplete characters become U+FFFD). */
    String finish();
  }
}
