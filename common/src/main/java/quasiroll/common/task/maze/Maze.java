package quasiroll.common.task.maze;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Optional;
import quasiroll.common.error.BadInputException;

/**
 * A rectangular grid of open cells ({@code .}), walls ({@code #}), one start ({@code S}) and one
 * goal ({@code G}). Its text form is the rows joined by {@code /}, e.g. {@code "S.#/..#/#.G"};
 * moves are {@code U D L R} (row-1, row+1, col-1, col+1).
 */
public final class Maze {
  static final int MAX_SIDE = 64;

  private final char[][] cells;
  private final int startRow;
  private final int startCol;
  private final int goalRow;
  private final int goalCol;

  private Maze(char[][] cells) {
    this.cells = cells;
    int[] s = find('S');
    int[] g = find('G');
    this.startRow = s[0];
    this.startCol = s[1];
    this.goalRow = g[0];
    this.goalCol = g[1];
  }

  /** Parses the {@code /}-joined text form; fails with a message naming what is wrong. */
  public static Maze parse(String text) {
    String[] rows = text.trim().split("/", -1);
    int cols = rows[0].length();
    if (rows.length > MAX_SIDE || cols == 0 || cols > MAX_SIDE) {
      throw new BadInputException(
          "maze metadata: maze='"
              + text
              + "' must have 1.."
              + MAX_SIDE
              + " rows of 1.."
              + MAX_SIDE
              + " cells joined by '/', e.g. 'S.#/..#/#.G'");
    }
    char[][] cells = new char[rows.length][];
    int starts = 0;
    int goals = 0;
    for (int r = 0; r < rows.length; r++) {
      if (rows[r].length() != cols) {
        throw new BadInputException(
            "maze metadata: maze='"
                + text
                + "' has rows of different lengths ("
                + cols
                + " and "
                + rows[r].length()
                + "); every row needs the same number of cells");
      }
      cells[r] = rows[r].toCharArray();
      for (char c : cells[r]) {
        switch (c) {
          case 'S' -> starts++;
          case 'G' -> goals++;
          case '.', '#' -> {}
          default ->
              throw new BadInputException(
                  "maze metadata: maze='" + text + "' has cell '" + c + "'; cells are . # S G");
        }
      }
    }
    if (starts != 1 || goals != 1) {
      throw new BadInputException(
          "maze metadata: maze='"
              + text
              + "' has "
              + starts
              + " S and "
              + goals
              + " G cells; exactly one of each is needed");
    }
    return new Maze(cells);
  }

  /** A maze from a grid the generator built (must hold exactly one S and one G). */
  static Maze of(char[][] cells) {
    char[][] copy = new char[cells.length][];
    for (int r = 0; r < cells.length; r++) {
      copy[r] = cells[r].clone();
    }
    return new Maze(copy);
  }

  public int rows() {
    return cells.length;
  }

  public int cols() {
    return cells[0].length;
  }

  /** The {@code /}-joined form used in metadata. */
  public String text() {
    return String.join("/", rowStrings());
  }

  /** One row per line, as shown in prompts. */
  public String[] rowStrings() {
    return Arrays.stream(cells).map(String::new).toArray(String[]::new);
  }

  /**
   * True iff {@code moves} (only U D L R) walks from S without leaving the grid or entering a wall
   * and ends on G.
   */
  public boolean solves(CharSequence moves) {
    int r = startRow;
    int c = startCol;
    for (int i = 0; i < moves.length(); i++) {
      switch (moves.charAt(i)) {
        case 'U' -> r--;
        case 'D' -> r++;
        case 'L' -> c--;
        case 'R' -> c++;
        default -> {
          return false;
        }
      }
      if (r < 0 || r >= rows() || c < 0 || c >= cols() || cells[r][c] == '#') {
        return false;
      }
    }
    return r == goalRow && c == goalCol;
  }

  /**
   * A shortest solution; ties are broken by trying moves in the order U D L R at every cell, so the
   * result is a pure function of the maze. Empty if G is unreachable.
   */
  public Optional<String> shortestPath() {
    int n = rows() * cols();
    int[] prev = new int[n];
    char[] via = new char[n];
    Arrays.fill(prev, -2);
    ArrayDeque<Integer> queue = new ArrayDeque<>();
    int start = startRow * cols() + startCol;
    prev[start] = -1;
    queue.add(start);
    int[][] steps = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};
    char[] names = {'U', 'D', 'L', 'R'};
    while (!queue.isEmpty()) {
      int cur = queue.poll();
      int r = cur / cols();
      int c = cur % cols();
      if (r == goalRow && c == goalCol) {
        StringBuilder path = new StringBuilder();
        for (int at = cur; prev[at] != -1; at = prev[at]) {
          path.append(via[at]);
        }
        return Optional.of(path.reverse().toString());
      }
      for (int k = 0; k < 4; k++) {
        int nr = r + steps[k][0];
        int nc = c + steps[k][1];
        if (nr < 0 || nr >= rows() || nc < 0 || nc >= cols() || cells[nr][nc] == '#') {
          continue;
        }
        int next = nr * cols() + nc;
        if (prev[next] == -2) {
          prev[next] = cur;
          via[next] = names[k];
          queue.add(next);
        }
      }
    }
    return Optional.empty();
  }

  private int[] find(char want) {
    for (int r = 0; r < cells.length; r++) {
      for (int c = 0; c < cells[r].length; c++) {
        if (cells[r][c] == want) {
          return new int[] {r, c};
        }
      }
    }
    throw new IllegalStateException("no " + want + " in maze");
  }
}
