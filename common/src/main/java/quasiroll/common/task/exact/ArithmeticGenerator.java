package quasiroll.common.task.exact;

import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.StringJoiner;
import quasiroll.common.task.TaskGenerator;
import quasiroll.common.task.TaskParams;
import quasiroll.common.task.TaskPrompt;

/**
 * GSM8K-style exact-answer instances: a one-line story adding and removing {@code terms} quantities
 * (each 1..{@code max}) whose running total stays positive. The reference answer works it step by
 * step and ends with {@code #### <total>}, the format {@link ExactAnswerVerifier} reads. Metadata:
 * {@code task=exact}, {@code answer}.
 *
 * <p>Parameters: {@code terms} (2..6, default 3), {@code max} (1..10000, default 75).
 */
public final class ArithmeticGenerator implements TaskGenerator {
  public static final Set<String> PARAMS = Set.of("terms", "max");
  private static final String[] NAMES = {"Ann", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana"};
  private static final String[] ITEMS = {"apples", "coins", "cards", "books", "shells", "stamps"};

  private final int terms;
  private final int max;

  public ArithmeticGenerator(int terms, int max) {
    this.terms = terms;
    this.max = max;
  }

  public static ArithmeticGenerator fromParams(Map<String, String> params) {
    TaskParams p = new TaskParams("arithmetic generator", params).allowOnly(PARAMS);
    return new ArithmeticGenerator(p.integer("terms", 3, 2, 6), p.integer("max", 75, 1, 10_000));
  }

  @Override
  public String name() {
    return "arithmetic";
  }

  @Override
  public TaskPrompt instance(String id, SplittableRandom random) {
    String who = NAMES[random.nextInt(NAMES.length)];
    String what = ITEMS[random.nextInt(ITEMS.length)];
    long total = 1 + random.nextInt(max);
    StringBuilder story = new StringBuilder(who + " has " + total + " " + what + ".");
    StringJoiner steps = new StringJoiner(", ");
    for (int t = 1; t < terms; t++) {
      boolean remove = total > 1 && random.nextBoolean();
      long amount = 1 + random.nextInt(remove ? (int) Math.min(max, total - 1) : max);
      long next = remove ? total - amount : total + amount;
      story
          .append(remove ? " Gives away " : " Gets ")
          .append(amount)
          .append(remove ? "." : " more.");
      steps.add(total + (remove ? "-" : "+") + amount + "=" + next);
      total = next;
    }
    String text = "Question: " + story + " How many " + what + " now?\nAnswer: ";
    return new TaskPrompt(
        id,
        text,
        Map.of("task", "exact", "answer", Long.toString(total)),
        steps + " #### " + total);
  }
}
