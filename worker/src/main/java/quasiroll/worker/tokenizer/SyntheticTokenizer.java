package quasiroll.worker.tokenizer;

import java.util.ArrayList;
import java.util.List;
import quasiroll.common.noise.KeyedHash;

/**
 * The tokenizer of the synthetic models: token id N is the text {@code "tN "} (a 't', the decimal
 * id, one space). Encoding splits on whitespace; a word {@code tN} with N a canonical decimal below
 * the vocabulary size is token N, and any other word (so arbitrary prompts work) becomes token 1 +
 * (keyed hash of the word mod (V - 1)), i.e. never EOS. Decoding is exact for ids; encoding is
 * lossy for words that are not {@code tN}.
 */
public final class SyntheticTokenizer implements Tokenizer {
  private static final long DOMAIN_WORD = 0x5359_4e57_4f52_0001L; // "SYNWOR\0\1"
  private final int vocab;

  public SyntheticTokenizer(int vocab) {
    if (vocab < 2) {
      throw new IllegalArgumentException("vocab must be >= 2, got " + vocab);
    }
    this.vocab = vocab;
  }

  @Override
  public int[] encode(String text) {
    List<Integer> ids = new ArrayList<>();
    for (String word : text.trim().split("\\s+")) {
      if (word.isEmpty()) {
        continue;
      }
      ids.add(idOf(word));
    }
    return ids.stream().mapToInt(Integer::intValue).toArray();
  }

  /** The synthetic models have no BOS: a prompt is its words. */
  @Override
  public int[] encodePrompt(String text) {
    return encode(text);
  }

  private int idOf(String word) {
    if (word.length() >= 2
        && word.length() <= 11
        && word.charAt(0) == 't'
        && word.substring(1).chars().allMatch(Character::isDigit)
        && (word.length() == 2 || word.charAt(1) != '0')) {
      long n = Long.parseLong(word.substring(1));
      if (n < vocab) {
        return (int) n;
      }
    }
    return 1 + (int) Long.remainderUnsigned(KeyedHash.promptSeed(DOMAIN_WORD, word), vocab - 1);
  }

  @Override
  public String decode(int[] ids) {
    StringBuilder sb = new StringBuilder();
    for (int id : ids) {
      sb.append(textOf(id));
    }
    return sb.toString();
  }

  private String textOf(int id) {
    if (id < 0 || id >= vocab) {
      throw new IllegalArgumentException("token id " + id + " outside [0, " + vocab + ")");
    }
    return "t" + id + " ";
  }

  @Override
  public int vocabSize() {
    return vocab;
  }

  @Override
  public StreamingDecoder streamingDecoder() {
    return new StreamingDecoder() {
      @Override
      public String push(int token) {
        return textOf(token);
      }

      @Override
      public String finish() {
        return "";
      }
    };
  }
}
