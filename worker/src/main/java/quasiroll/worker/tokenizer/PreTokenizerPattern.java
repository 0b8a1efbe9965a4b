package quasiroll.worker.tokenizer;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import quasiroll.common.error.BadInputException;

/**
 * The regexes that split text into words before BPE, and their translation to Java. The HF
 * tokenizers library (Rust, Oniguruma syntax) treats {@code \s}, {@code \d}, {@code \w} and
 * case-insensitivity as Unicode-aware; Java needs {@link Pattern#UNICODE_CHARACTER_CLASS} for that.
 * {@code \p{L}}, {@code \p{N}}, {@code (?i:...)}, {@code {1,3}} and {@code (?!\S)} mean the same in
 * both.
 */
public final class PreTokenizerPattern {
  private PreTokenizerPattern() {}

  /** GPT-2's pattern (HF ByteLevel with use_regex=true; llama.cpp pre-tokenizer "gpt-2"). */
  public static final String GPT2 =
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

  /** Llama 3's Split pattern (llama.cpp pre-tokenizer "llama-bpe"). */
  public static final String LLAMA3 =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
          + " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

  /** Qwen2's Split pattern (llama.cpp pre-tokenizer "qwen2"): digits one at a time. */
  public static final String QWEN2 =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|"
          + " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

  /** The llama.cpp {@code tokenizer.ggml.pre} names quasiroll maps to a pattern. */
  public static final String SUPPORTED_GGUF_PRE = "llama-bpe, llama3, llama-v3, qwen2, gpt-2";

  /**
   * Pattern for a GGUF {@code tokenizer.ggml.pre} value (llama-vocab.cpp's pre-type table). A
   * missing value or "default" is refused: llama.cpp then splits with a cascade of several regexes
   * that no HF tokenizer uses, so no single pattern here would match it exactly.
   */
  public static String forGgufPre(String pre, String source) {
    return switch (pre == null ? "(missing)" : pre) {
      case "llama-bpe", "llama3", "llama-v3" -> LLAMA3;
      case "qwen2" -> QWEN2;
      case "gpt-2" -> GPT2;
      default ->
          throw new BadInputException(
              source
                  + ": tokenizer.ggml.pre '"
                  + (pre == null ? "(missing)" : pre)
                  + "' is not supported (supported: "
                  + SUPPORTED_GGUF_PRE
                  + ")");
    };
  }

  /** The llama.cpp pre-tokenizer name of a pattern (what the GGUF fixture writer stores). */
  public static String ggufPreOf(String regex) {
    if (regex.equals(LLAMA3)) {
      return "llama-bpe";
    }
    if (regex.equals(QWEN2)) {
      return "qwen2";
    }
    if (regex.equals(GPT2)) {
      return "gpt-2";
    }
    throw new IllegalArgumentException("no llama.cpp pre-tokenizer name for " + regex);
  }

  public static Pattern compile(String regex, String source) {
    try {
      return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNICODE_CASE);
    } catch (PatternSyntaxException e) {
      throw new BadInputException(
          source
              + ": pre-tokenizer regex uses syntax Java cannot translate: "
              + e.getDescription()
              + " in "
              + regex);
    }
  }
}
