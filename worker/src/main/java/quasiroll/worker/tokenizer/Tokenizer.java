package quasiroll.worker.tokenizer;

/** Text to token ids and back, for one model's vocabulary. */
public interface Tokenizer {
  /** Encodes text; special tokens written literally in the text are recognised. */
  int[] encode(String text);

  /** Decodes ids to text; invalid UTF-8 byte sequences become U+FFFD. */
  String decode(int[] ids);

  int vocabSize();

  /**
   * A per-sample incremental decoder: {@link StreamingDecoder#push(int)} returns the text
   * completed by that token, holding back bytes of an unfinished UTF-8 character.
   */
  StreamingDecoder streamingDecoder();

  interface StreamingDecoder {
    String push(int token);

    /** Whatever is held back, flushed (incomplete characters become U+FFFD). */
    String finish();
  }
}
