package quasiroll.common.task.maze;

import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import quasiroll.common.error.BadInputException;
import quasiroll.common.task.TaskGenerator;
import quasiroll.common.task.TaskParams;
import quasiroll.common.task.TaskPrompt;

/**
 * Maze instances: a {@code rows} x {@code cols} grid where each cell is a wall with probability
 * {@code walls}/100, S and G on distinct open cells, G reachable from S in at least {@code
 * min_moves} moves. The reference answer is {@link Maze#shortestPath()}.
 *
 * <p>Parameters: {@code rows}, {@code cols} (2..32, default 5), {@code walls} (0..60 percent,
 * default 30), {@code min_moves} (1..64, default 3).
 */
public final class MazeGenerator implements TaskGenerator {
  public static final Set<String> PARAMS = Set.of("rows", "cols", "walls", "min_moves");

  private final int rows;
  private final int cols;
  private final int wallPercent;
  private final int minMoves;

  public MazeGenerator(int rows, int cols, int wallPercent, int minMoves) {
    if (minMoves > rows + cols - 2) {
      throw new BadInputException(
          "maze generator: min_moves="
              + minMoves
              + " is unreachable on a "
              + rows
              + "x"
              + cols
              + " grid; use at most rows+cols-2="
              + (rows + cols - 2));
    }
    this.rows = rows;
    this.cols = cols;
    this.wallPercent = wallPercent;
    this.minMoves = minMoves;
  }

  public static MazeGenerator fromParams(Map<String, String> params) {
    TaskParams p = new TaskParams("maze generator", params).allowOnly(PARAMS);
    return new MazeGenerator(
        p.integer("rows", 5, 2, 32),
        p.integer("cols", 5, 2, 32),
        p.integer("walls", 30, 0, 60),
        p.integer("min_moves", 3, 1, 64));
  }

  @Override
  public String name() {
    return "maze";
  }

  public static String promptText(Maze maze) {
    return "Maze: move from S to G with U D L R; # is a wall.\n"
        + String.join("\n", maze.rowStrings())
        + "\nAnswer: ";
  }

  @Override
  public TaskPrompt instance(String id, SplittableRandom random) {
    while (true) {
      char[][] cells = new char[rows][cols];
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
          cells[r][c] = random.nextInt(100) < wallPercent ? '#' : '.';
        }
      }
      int s = random.nextInt(rows * cols);
      int g = random.nextInt(rows * cols);
      if (s == g) {
        continue;
      }
      cells[s / cols][s % cols] = 'S';
      cells[g / cols][g % cols] = 'G';
      Maze maze = Maze.of(cells);
      String path = maze.shortestPath().orElse(null);
      if (path == null || path.length() < minMoves) {
        continue;
      }
      return new TaskPrompt(
          id, promptText(maze), Map.of("task", name(), "maze", maze.text()), path);
    }
  }
}
