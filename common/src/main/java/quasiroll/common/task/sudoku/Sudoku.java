package quasiroll.common.task.sudoku;

import java.util.SplittableRandom;
import quasiroll.common.error.BadInputException;

/**
 * An n x n Sudoku grid (n = 4 or 9, boxes sqrt(n) x sqrt(n)); 0 marks a blank. Text form: n*n
 * characters, digits and {@code .} (or {@code 0}) for blanks, row by row, optionally with {@code /}
 * between rows, e.g. {@code "1.3./..1./..../4..."}.
 */
public final class Sudoku {
  private final int n;
  private final int box;
  private final int[] cells;

  Sudoku(int n, int[] cells) {
    this.n = n;
    this.box = n == 4 ? 2 : 3;
    this.cells = cells.clone();
  }

  public static Sudoku parse(String text) {
    String s = text.trim().replace("/", "");
    int n = s.length() == 16 ? 4 : s.length() == 81 ? 9 : -1;
    if (n < 0) {
      throw new BadInputException(
          "sudoku metadata: puzzle='"
              + text
              + "' has "
              + s.length()
              + " cells; expected 16 (4x4) or 81 (9x9), digits and '.' for blanks");
    }
    int[] cells = new int[n * n];
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '.' || c == '0') {
        continue;
      }
      if (c < '1' || c > (char) ('0' + n)) {
        throw new BadInputException(
            "sudoku metadata: puzzle='"
                + text
                + "' has cell '"
                + c
                + "'; cells are 1.."
                + n
                + " or '.'");
      }
      cells[i] = c - '0';
    }
    Sudoku grid = new Sudoku(n, cells);
    if (!grid.givensConsistent()) {
      throw new BadInputException(
          "sudoku metadata: puzzle='" + text + "' repeats a digit in a row, column or box");
    }
    return grid;
  }

  public int size() {
    return n;
  }

  int get(int i) {
    return cells[i];
  }

  /** Rows joined by {@code /}, blanks as {@code .}. */
  public String text() {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < n * n; i++) {
      if (i > 0 && i % n == 0) {
        b.append('/');
      }
      b.append(cells[i] == 0 ? '.' : (char) ('0' + cells[i]));
    }
    return b.toString();
  }

  /**
   * True iff {@code digits} (n*n values) is a complete valid grid that keeps every given of this
   * puzzle.
   */
  public boolean isCompletedBy(int[] digits) {
    if (digits.length != n * n) {
      return false;
    }
    for (int i = 0; i < n * n; i++) {
      if (digits[i] < 1 || digits[i] > n || (cells[i] != 0 && cells[i] != digits[i])) {
        return false;
      }
    }
    return new Sudoku(n, digits).givensConsistent();
  }

  /** No digit repeats in any row, column or box (blanks ignored). */
  private boolean givensConsistent() {
    for (int unit = 0; unit < n; unit++) {
      int rowSeen = 0;
      int colSeen = 0;
      int boxSeen = 0;
      for (int k = 0; k < n; k++) {
        int r = cells[unit * n + k];
        int c = cells[k * n + unit];
        int b = cells[((unit / box) * box + k / box) * n + (unit % box) * box + k % box];
        if (repeats(rowSeen, r) || repeats(colSeen, c) || repeats(boxSeen, b)) {
          return false;
        }
        rowSeen |= bit(r);
        colSeen |= bit(c);
        boxSeen |= bit(b);
      }
    }
    return true;
  }

  private static int bit(int d) {
    return d == 0 ? 0 : 1 << d;
  }

  private static boolean repeats(int seen, int d) {
    return d != 0 && (seen & (1 << d)) != 0;
  }

  /**
   * Counts solutions up to {@code limit} (a uniqueness test is {@code countSolutions(2) == 1}); if
   * {@code random} is given, digits are tried in random order and the first solution found is
   * written into {@code firstSolution}.
   */
  int countSolutions(int limit, SplittableRandom random, int[] firstSolution) {
    int[] work = cells.clone();
    int[] found = {0};
    search(work, limit, random, firstSolution, found);
    return found[0];
  }

  private void search(int[] work, int limit, SplittableRandom random, int[] first, int[] found) {
    // The blank with the fewest candidates first keeps 9x9 searches short.
    int best = -1;
    int bestMask = 0;
    int bestCount = Integer.MAX_VALUE;
    for (int i = 0; i < work.length; i++) {
      if (work[i] != 0) {
        continue;
      }
      int mask = candidates(work, i);
      int count = Integer.bitCount(mask);
      if (count < bestCount) {
        best = i;
        bestMask = mask;
        bestCount = count;
        if (count <= 1) {
          break;
        }
      }
    }
    if (best < 0) {
      if (found[0]++ == 0 && first != null) {
        System.arraycopy(work, 0, first, 0, work.length);
      }
      return;
    }
    int[] order = new int[n];
    for (int d = 1; d <= n; d++) {
      order[d - 1] = d;
    }
    if (random != null) {
      for (int i = n - 1; i > 0; i--) {
        int j = random.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
    }
    for (int d : order) {
      if ((bestMask & (1 << d)) == 0) {
        continue;
      }
      work[best] = d;
      search(work, limit, random, first, found);
      work[best] = 0;
      if (found[0] >= limit) {
        return;
      }
    }
  }

  private int candidates(int[] work, int i) {
    int r = i / n;
    int c = i % n;
    int used = 0;
    for (int k = 0; k < n; k++) {
      used |= 1 << work[r * n + k];
      used |= 1 << work[k * n + c];
    }
    int br = (r / box) * box;
    int bc = (c / box) * box;
    for (int dr = 0; dr < box; dr++) {
      for (int dc = 0; dc < box; dc++) {
        used |= 1 << work[(br + dr) * n + bc + dc];
      }
    }
    int all = ((1 << (n + 1)) - 1) & ~1;
    return all & ~used;
  }
}
