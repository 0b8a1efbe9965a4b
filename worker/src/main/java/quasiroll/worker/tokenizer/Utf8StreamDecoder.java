package quasiroll.worker.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns a stream of byte chunks into text without ever splitting a UTF-8 character: the bytes of a
 * character that is still incomplete at the end of the input are held back until the next chunk.
 * Bytes that cannot start or continue a valid character are emitted at once as U+FFFD (the same
 * replacement {@link String#String(byte[], java.nio.charset.Charset)} makes), so the concatenated
 * output equals decoding all bytes in one go.
 */
public final class Utf8StreamDecoder {
  private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

  /** Appends bytes and returns the text they complete. */
  public String push(byte[] bytes) {
    pending.writeBytes(bytes);
    byte[] all = pending.toByteArray();
    int cut = completePrefix(all);
    pending.reset();
    pending.write(all, cut, all.length - cut);
    return new String(all, 0, cut, StandardCharsets.UTF_8);
  }

  /** Everything held back, with an unfinished character replaced by U+FFFD. */
  public String finish() {
    byte[] all = pending.toByteArray();
    pending.reset();
    return new String(all, StandardCharsets.UTF_8);
  }

  /**
   * Length of the longest prefix that does not end inside a character that later bytes could still
   * complete. Only the last up-to-3 bytes can belong to such a character.
   */
  static int completePrefix(byte[] b) {
    int n = b.length;
    for (int back = 1; back <= Math.min(3, n); back++) {
      int lead = b[n - back] & 0xff;
      if ((lead & 0xC0) == 0x80) {
        continue; // continuation byte: the lead is further back
      }
      int need = lead >= 0xF0 && lead <= 0xF4 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 1;
      if (lead >= 0xF5) {
        need = 1; // never valid
      }
      if (need > back && validSoFar(b, n - back, back)) {
        return n - back; // incomplete but still possibly valid: hold it back
      }
      return n;
    }
    return n;
  }

  /** Whether the partial sequence could still become a valid character (rules of RFC 3629). */
  private static boolean validSoFar(byte[] b, int start, int len) {
    int lead = b[start] & 0xff;
    if (len >= 2) {
      int second = b[start + 1] & 0xff;
      if (lead == 0xE0 && second < 0xA0) {
        return false; // overlong
      }
      if (lead == 0xED && second > 0x9F) {
        return false; // surrogate
      }
      if (lead == 0xF0 && second < 0x90) {
        return false; // overlong
      }
      if (lead == 0xF4 && second > 0x8F) {
        return false; // above U+10FFFF
      }
    }
    return true;
  }
}
