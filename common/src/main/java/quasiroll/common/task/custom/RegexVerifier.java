package quasiroll.common.task.custom;

import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import quasiroll.common.error.BadInputException;
import quasiroll.common.task.FinalAnswer;
import quasiroll.common.task.TaskParams;
import quasiroll.common.task.Verifier;

/**
 * A user-defined regular-expression reward (java.util.regex syntax): 1 if the pattern matches, else
 * 0.
 *
 * <p>Metadata: {@code pattern}; optional {@code match} = {@code full} (default: the whole subject
 * must match) or {@code find} (a match anywhere); optional {@code on} = {@code answer} (default:
 * the final answer, {@link FinalAnswer}) or {@code completion} (the whole completion text).
 */
public final class RegexVerifier implements Verifier {
  public static final Set<String> KEYS = Set.of("task", "pattern", "match", "on");

  /** Subjects longer than this score 0: bounds the cost of a pathological pattern. */
  static final int MAX_SUBJECT = 100_000;

  private final Pattern pattern;
  private final boolean full;
  private final boolean onAnswer;

  public RegexVerifier(Pattern pattern, boolean full, boolean onAnswer) {
    this.pattern = pattern;
    this.full = full;
    this.onAnswer = onAnswer;
  }

  public static RegexVerifier fromMetadata(Map<String, String> metadata) {
    TaskParams p = new TaskParams("regex metadata", metadata).allowOnly(KEYS);
    String raw = p.string("pattern");
    Pattern pattern;
    try {
      pattern = Pattern.compile(raw);
    } catch (PatternSyntaxException e) {
      throw new BadInputException(
          "regex metadata: pattern='"
              + raw
              + "' is not a valid java.util.regex pattern: "
              + e.getDescription());
    }
    boolean full = p.choice("match", "full", Set.of("full", "find")).equals("full");
    boolean onAnswer = p.choice("on", "answer", Set.of("answer", "completion")).equals("answer");
    return new RegexVerifier(pattern, full, onAnswer);
  }

  /** Thrown when the matching thread is interrupted. */
  public static final class Interrupted extends RuntimeException {
    Interrupted() {
      super("regex matching interrupted (time limit)");
    }
  }

  /** A subject that stops matching when its thread is interrupted. */
  private record InterruptibleText(String s) implements CharSequence {
    @Override
    public int length() {
      return s.length();
    }

    @Override
    public char charAt(int index) {
      if (Thread.currentThread().isInterrupted()) {
        throw new Interrupted();
      }
      return s.charAt(index);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return new InterruptibleText(s.substring(start, end));
    }

    @Override
    public String toString() {
      return s;
    }
  }

  @Override
  public double reward(String completionText) {
    String subject = onAnswer ? FinalAnswer.of(completionText) : completionText;
    if (subject.length() > MAX_SUBJECT) {
      return 0.0;
    }
    // Matching checks for interruption at every character read, so a caller's time limit
    // (the coordinator's VerifierPool) stops a catastrophically backtracking pattern.
    var m = pattern.matcher(new InterruptibleText(subject));
    return (full ? m.matches() : m.find()) ? 1.0 : 0.0;
  }
}
