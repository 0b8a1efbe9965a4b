package quasiroll.common.task.countdown;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.StringJoiner;
import quasiroll.common.task.TaskGenerator;
import quasiroll.common.task.TaskParams;
import quasiroll.common.task.TaskPrompt;

/**
 * Countdown instances: {@code count} numbers drawn uniformly from 1..{@code max}, and a target that
 * a random expression over all of them reaches with every intermediate value a positive integer and
 * the target within 1..{@code max_target}. The expression is the reference answer; other answers
 * may also be correct.
 *
 * <p>Parameters: {@code count} (2..6, default 3), {@code max} (1..1000, default 20), {@code
 * max_target} (1..1000000, default 100).
 */
public final class CountdownGenerator implements TaskGenerator {
  public static final Set<String> PARAMS = Set.of("count", "max", "max_target");
  private static final char[] OPS = {'+', '-', '*', '/'};

  private final int count;
  private final int max;
  private final int maxTarget;

  public CountdownGenerator(int count, int max, int maxTarget) {
    this.count = count;
    this.max = max;
    this.maxTarget = maxTarget;
  }

  public static CountdownGenerator fromParams(Map<String, String> params) {
    TaskParams p = new TaskParams("countdown generator", params).allowOnly(PARAMS);
    return new CountdownGenerator(
        p.integer("count", 3, 2, 6),
        p.integer("max", 20, 1, 1000),
        p.integer("max_target", 100, 1, 1_000_000));
  }

  @Override
  public String name() {
    return "countdown";
  }

  /** The prompt for these numbers and target (also used to re-render stored instances). */
  public static String promptText(List<Integer> numbers, int target) {
    StringJoiner ns = new StringJoiner(" ");
    numbers.forEach(n -> ns.add(Integer.toString(n)));
    return "Countdown: make "
        + target
        + " from "
        + ns
        + " using + - * / and parentheses, each number at most once.\nAnswer: ";
  }

  @Override
  public TaskPrompt instance(String id, SplittableRandom random) {
    while (true) {
      List<Integer> numbers = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        numbers.add(1 + random.nextInt(max));
      }
      Node tree = randomTree(numbers, random);
      if (tree == null || tree.value > maxTarget) {
        continue;
      }
      int target = (int) tree.value;
      StringJoiner csv = new StringJoiner(",");
      numbers.forEach(n -> csv.add(Integer.toString(n)));
      return new TaskPrompt(
          id,
          promptText(numbers, target),
          Map.of("task", name(), "numbers", csv.toString(), "target", Integer.toString(target)),
          tree.render());
    }
  }

  /**
   * Combines the numbers in a random order with random operators, like a Countdown player:
   * repeatedly pick two pending values and an operator. Null if a step leaves the positive integers
   * (then the caller draws a fresh instance).
   */
  private static Node randomTree(List<Integer> numbers, SplittableRandom random) {
    List<Node> pending = new ArrayList<>();
    for (int n : numbers) {
      pending.add(new Node(n));
    }
    while (pending.size() > 1) {
      Node a = pending.remove(random.nextInt(pending.size()));
      Node b = pending.remove(random.nextInt(pending.size()));
      char op = OPS[random.nextInt(OPS.length)];
      Node c = Node.combine(op, a, b);
      if (c == null) {
        return null;
      }
      pending.add(c);
    }
    return pending.get(0);
  }

  /** An expression tree over positive integers, rendered with only the needed parentheses. */
  private static final class Node {
    final long value;
    final char op; // 0 for a literal
    final Node left;
    final Node right;

    Node(long value) {
      this(value, (char) 0, null, null);
    }

    private Node(long value, char op, Node left, Node right) {
      this.value = value;
      this.op = op;
      this.left = left;
      this.right = right;
    }

    static Node combine(char op, Node a, Node b) {
      long v;
      switch (op) {
        case '+' -> v = a.value + b.value;
        case '-' -> v = a.value - b.value;
        case '*' -> v = a.value * b.value;
        default -> {
          if (b.value == 0 || a.value % b.value != 0) {
            return null;
          }
          v = a.value / b.value;
        }
      }
      return v <= 0 || v > 1_000_000_000L ? null : new Node(v, op, a, b);
    }

    static int precedence(char op) {
      return op == 0 ? 3 : (op == '+' || op == '-') ? 1 : 2;
    }

    String render() {
      if (op == 0) {
        return Long.toString(value);
      }
      int p = precedence(op);
      String l = left.render();
      if (precedence(left.op) < p) {
        l = "(" + l + ")";
      }
      String r = right.render();
      int rp = precedence(right.op);
      if (rp < p || (rp == p && (op == '-' || op == '/'))) {
        r = "(" + r + ")";
      }
      return l + op + r;
    }
  }
}
