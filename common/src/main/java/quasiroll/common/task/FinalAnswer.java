package quasiroll.common.task;

/**
 * Where the answer sits inside a completion, shared by every task so that one convention holds
 * everywhere:
 *
 * <ol>
 *   <li>the content of the last {@code <answer>...</answer>} pair, if any;
 *   <li>else the text after the last {@code ####} (GSM8K's marker), if any;
 *   <li>else the whole completion.
 * </ol>
 *
 * The result is trimmed. A model that reasons first must therefore mark its answer; the bundled
 * demo model answers directly.
 */
public final class FinalAnswer {
  private static final String OPEN = "<answer>";
  private static final String CLOSE = "</answer>";
  private static final String MARKER = "####";

  private FinalAnswer() {}

  public static String of(String completion) {
    int close = completion.lastIndexOf(CLOSE);
    if (close >= 0) {
      int open = completion.lastIndexOf(OPEN, close);
      if (open >= 0) {
        return completion.substring(open + OPEN.length(), close).trim();
      }
    }
    int marker = completion.lastIndexOf(MARKER);
    if (marker >= 0) {
      return completion.substring(marker + MARKER.length()).trim();
    }
    return completion.trim();
  }
}
