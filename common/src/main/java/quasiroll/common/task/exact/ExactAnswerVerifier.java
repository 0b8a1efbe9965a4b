package quasiroll.common.task.exact;

import java.math.BigDecimal;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import quasiroll.common.error.BadInputException;
import quasiroll.common.task.FinalAnswer;
import quasiroll.common.task.TaskParams;
import quasiroll.common.task.Verifier;

/**
 * Exact answers, GSM8K style. The final answer ({@link FinalAnswer}: inside the last {@code
 * <answer>} tag, else after the last {@code ####}, else the whole completion) is compared with the
 * expected one:
 *
 * <ul>
 *   <li>{@code mode=number}: the LAST number in the final answer (thousands commas dropped, so
 *       {@code 1,000} reads 1000; {@code $42.} and {@code 42 apples} read 42) must equal {@code
 *       answer} numerically ({@code 42.0} equals {@code 42});
 *   <li>{@code mode=string}: the trimmed final answer must equal {@code answer} exactly
 *       (case-sensitive);
 *   <li>{@code mode=auto} (default): number if {@code answer} is a number, else string.
 * </ul>
 *
 * <p>Metadata: {@code answer}, optional {@code mode} (auto|number|string).
 */
public final class ExactAnswerVerifier implements Verifier {
  public static final Set<String> KEYS = Set.of("task", "answer", "mode");
  private static final Pattern NUMBER = Pattern.compile("-?\\d[\\d,]*(?:\\.\\d+)?|-?\\.\\d+");

  private final String expected;
  private final BigDecimal expectedNumber; // null in string mode

  public ExactAnswerVerifier(String expected, boolean numeric) {
    this.expected = expected.trim();
    this.expectedNumber = numeric ? parseNumber(this.expected) : null;
    if (numeric && expectedNumber == null) {
      throw new BadInputException(
          "exact metadata: answer='" + expected + "' is not a number, but mode=number");
    }
  }

  public static ExactAnswerVerifier fromMetadata(Map<String, String> metadata) {
    TaskParams p = new TaskParams("exact metadata", metadata).allowOnly(KEYS);
    String answer = p.string("answer");
    String mode = p.choice("mode", "auto", Set.of("auto", "number", "string"));
    boolean numeric =
        mode.equals("number") || (mode.equals("auto") && parseNumber(answer.trim()) != null);
    return new ExactAnswerVerifier(answer, numeric);
  }

  @Override
  public double reward(String completionText) {
    String answer = FinalAnswer.of(completionText);
    if (expectedNumber == null) {
      return answer.equals(expected) ? 1.0 : 0.0;
    }
    Matcher m = NUMBER.matcher(answer);
    String last = null;
    while (m.find()) {
      last = m.group();
    }
    BigDecimal got = last == null ? null : parseNumber(last);
    return got != null && got.compareTo(expectedNumber) == 0 ? 1.0 : 0.0;
  }

  /** A whole-string number (commas allowed as thousands separators), or null. */
  static BigDecimal parseNumber(String s) {
    if (!NUMBER.matcher(s).matches() || s.length() > 100) {
      return null;
    }
    try {
      return new BigDecimal(s.replace(",", ""));
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
