package quasiroll.worker.tokenizer;

/**
 * GPT-2's byte-level alphabet ({@code bytes_to_unicode} in openai/gpt-2 encoder.py, the HF {@code
 * ByteLevel} pre-tokenizer/decoder): every byte maps to one printable code point, so BPE works on
 * strings while covering all byte sequences. Printable bytes '!'..'~', '¡'..'¬', '®'..'ÿ' map to
 * themselves; the other 68 bytes map to U+0100, U+0101, ... in byte order (so ' ' is 'Ġ' U+0120 and
 * '\n' is 'Ċ' U+010A).
 */
public final class ByteLevelAlphabet {
  private static final char[] BYTE_TO_CHAR = new char[256];
  private static final int[] CHAR_TO_BYTE = new int[324];

  static {
    java.util.Arrays.fill(CHAR_TO_BYTE, -1);
    int next = 0;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      char c = printable ? (char) b : (char) (256 + next++);
      BYTE_TO_CHAR[b] = c;
      CHAR_TO_BYTE[c] = b;
    }
  }

  private ByteLevelAlphabet() {}

  public static char charOf(int b) {
    return BYTE_TO_CHAR[b & 0xff];
  }

  /** The byte a character stands for, or -1 if it is not in the alphabet. */
  public static int byteOf(char c) {
    return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
  }

  /** UTF-8 bytes of text, each replaced by its alphabet character. */
  public static String encode(byte[] bytes) {
    StringBuilder sb = new StringBuilder(bytes.length);
    for (byte b : bytes) {
      sb.append(BYTE_TO_CHAR[b & 0xff]);
    }
    return sb.toString();
  }
}
