package quasiroll.common.task.sudoku;

import java.util.Map;
import java.util.Set;
import quasiroll.common.task.FinalAnswer;
import quasiroll.common.task.TaskParams;
import quasiroll.common.task.Verifier;

/**
 * Sudoku: the digits of the final answer ({@link FinalAnswer}), read in order, must be exactly n*n
 * digits forming a valid grid that keeps every given. Characters other than digits are ignored, so
 * {@code 1234 3412 ...}, one row per line, or {@code 1234/3412/...} are all read the same way; an
 * extra or missing digit scores 0.
 *
 * <p>Metadata: {@code puzzle} (see {@link Sudoku}).
 */
public final class SudokuVerifier implements Verifier {
  public static final Set<String> KEYS = Set.of("task", "puzzle");

  private final Sudoku puzzle;

  public SudokuVerifier(Sudoku puzzle) {
    this.puzzle = puzzle;
  }

  public static SudokuVerifier fromMetadata(Map<String, String> metadata) {
    TaskParams p = new TaskParams("sudoku metadata", metadata).allowOnly(KEYS);
    return new SudokuVerifier(Sudoku.parse(p.string("puzzle")));
  }

  @Override
  public double reward(String completionText) {
    String answer = FinalAnswer.of(completionText);
    int cells = puzzle.size() * puzzle.size();
    int[] digits = new int[cells];
    int count = 0;
    for (int i = 0; i < answer.length(); i++) {
      char ch = answer.charAt(i);
      if (ch >= '0' && ch <= '9') {
        if (count == cells) {
          return 0.0;
        }
        digits[count++] = ch - '0';
      }
    }
    return count == cells && puzzle.isCompletedBy(digits) ? 1.0 : 0.0;
  }
}
