package quasiroll.common.task.countdown;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import quasiroll.common.error.BadInputException;
import quasiroll.common.task.FinalAnswer;
import quasiroll.common.task.TaskParams;
import quasiroll.common.task.Verifier;

/**
 * Countdown: the final answer ({@link FinalAnswer}) must be an arithmetic expression ({@link
 * ArithmeticExpression}) over the given numbers whose value is the target. Each given number may be
 * used at most once (a number given twice may be used twice); with {@code use_all=true} each must
 * be used exactly once. An optional trailing {@code = N} is accepted when N is the target. Reward 1
 * or 0.
 *
 * <p>Metadata: {@code numbers} (comma-separated non-negative integers), {@code target} (integer),
 * optional {@code use_all} (true|false, default false).
 */
public final class CountdownVerifier implements Verifier {
  public static final Set<String> KEYS = Set.of("task", "numbers", "target", "use_all");

  private final List<BigInteger> numbers;
  private final BigInteger target;
  private final boolean useAll;

  public CountdownVerifier(List<BigInteger> numbers, BigInteger target, boolean useAll) {
    this.numbers = List.copyOf(numbers);
    this.target = target;
    this.useAll = useAll;
  }

  public static CountdownVerifier fromMetadata(Map<String, String> metadata) {
    TaskParams p = new TaskParams("countdown metadata", metadata).allowOnly(KEYS);
    String raw = p.string("numbers");
    List<BigInteger> numbers = new ArrayList<>();
    for (String part : raw.split(",", -1)) {
      numbers.add(parseInteger(part, "numbers='" + raw + "'", 18));
    }
    BigInteger target = parseInteger(p.string("target"), "target", 60);
    boolean useAll = Boolean.parseBoolean(p.choice("use_all", "false", Set.of("true", "false")));
    for (BigInteger n : numbers) {
      if (n.signum() < 0) {
        throw new BadInputException(
            "countdown metadata: numbers='" + raw + "' has a negative number; numbers are >= 0");
      }
    }
    return new CountdownVerifier(numbers, target, useAll);
  }

  private static BigInteger parseInteger(String s, String what, int maxDigits) {
    String t = s.trim();
    if (!t.matches("-?[0-9]{1," + maxDigits + "}")) {
      throw new BadInputException(
          "countdown metadata: "
              + what
              + " has '"
              + s
              + "', which is not an integer of at most "
              + maxDigits
              + " digits;"
              + " expected e.g. numbers=3,5,7 target=22");
    }
    return new BigInteger(t);
  }

  @Override
  public double reward(String completionText) {
    String answer = FinalAnswer.of(completionText);
    int eq = answer.indexOf('=');
    if (eq >= 0) {
      String rhs = answer.substring(eq + 1).trim();
      if (!rhs.equals(target.toString())) {
        return 0.0;
      }
      answer = answer.substring(0, eq);
    }
    Optional<ArithmeticExpression.Value> v = ArithmeticExpression.evaluate(answer);
    if (v.isEmpty() || !v.get().value().equals(target)) {
      return 0.0;
    }
    return usesAllowedNumbers(v.get().literals()) ? 1.0 : 0.0;
  }

  private boolean usesAllowedNumbers(List<BigInteger> used) {
    BigInteger[] available = numbers.toArray(new BigInteger[0]);
    BigInteger[] taken = used.toArray(new BigInteger[0]);
    Arrays.sort(available);
    Arrays.sort(taken);
    if (useAll) {
      return Arrays.equals(available, taken);
    }
    // Sub-multiset test on two sorted arrays.
    int i = 0;
    for (BigInteger t : taken) {
      while (i < available.length && available[i].compareTo(t) < 0) {
        i++;
      }
      if (i == available.length || !available[i].equals(t)) {
        return false;
      }
      i++;
    }
    return true;
  }
}
