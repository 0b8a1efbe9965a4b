package quasiroll.common.task.sudoku;

import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.StringJoiner;
import quasiroll.common.error.BadInputException;
import quasiroll.common.task.TaskGenerator;
import quasiroll.common.task.TaskParams;
import quasiroll.common.task.TaskPrompt;

/**
 * Sudoku instances with a unique solution: a random full grid, then cells blanked in random order,
 * skipping any whose removal would allow a second solution, until {@code blanks} cells are blank.
 * The reference answer is the solution, rows separated by spaces.
 *
 * <p>Parameters: {@code size} (4 or 9, default 4), {@code blanks} (1..12 for 4x4, 1..55 for 9x9;
 * default 12 for 4x4, 40 for 9x9).
 */
public final class SudokuGenerator implements TaskGenerator {
  public static final Set<String> PARAMS = Set.of("size", "blanks");
  private static final int MAX_TRIES = 100;

  private final int n;
  private final int blanks;

  public SudokuGenerator(int n, int blanks) {
    this.n = n;
    this.blanks = blanks;
  }

  public static SudokuGenerator fromParams(Map<String, String> params) {
    TaskParams p = new TaskParams("sudoku generator", params).allowOnly(PARAMS);
    int n = Integer.parseInt(p.choice("size", "4", Set.of("4", "9")));
    int blanks = n == 4 ? p.integer("blanks", 12, 1, 12) : p.integer("blanks", 40, 1, 55);
    return new SudokuGenerator(n, blanks);
  }

  @Override
  public String name() {
    return "sudoku";
  }

  public static String promptText(Sudoku puzzle) {
    int n = puzzle.size();
    String box = n == 4 ? "2x2" : "3x3";
    return "Sudoku "
        + n
        + "x"
        + n
        + ": replace each . with 1-"
        + n
        + " so every row, column and "
        + box
        + " box has each digit once.\n"
        + puzzle.text().replace('/', '\n')
        + "\nAnswer: ";
  }

  @Override
  public TaskPrompt instance(String id, SplittableRandom random) {
    for (int attempt = 0; attempt < MAX_TRIES; attempt++) {
      int[] solution = new int[n * n];
      new Sudoku(n, new int[n * n]).countSolutions(1, random, solution);
      int[] cells = solution.clone();
      int[] order = shuffledIndices(random);
      int blanked = 0;
      for (int i = 0; i < order.length && blanked < blanks; i++) {
        int cell = order[i];
        int keep = cells[cell];
        cells[cell] = 0;
        if (new Sudoku(n, cells).countSolutions(2, null, null) == 1) {
          blanked++;
        } else {
          cells[cell] = keep;
        }
      }
      if (blanked == blanks) {
        Sudoku puzzle = new Sudoku(n, cells);
        return new TaskPrompt(
            id,
            promptText(puzzle),
            Map.of("task", name(), "puzzle", puzzle.text()),
            rows(solution));
      }
    }
    throw new BadInputException(
        "sudoku generator: could not make a unique puzzle with blanks="
            + blanks
            + " in "
            + MAX_TRIES
            + " tries; use fewer blanks");
  }

  private int[] shuffledIndices(SplittableRandom random) {
    int[] order = new int[n * n];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    for (int i = order.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }

  private String rows(int[] solution) {
    StringJoiner j = new StringJoiner(" ");
    for (int r = 0; r < n; r++) {
      StringBuilder row = new StringBuilder();
      for (int c = 0; c < n; c++) {
        row.append(solution[r * n + c]);
      }
      j.add(row);
    }
    return j.toString();
  }
}
