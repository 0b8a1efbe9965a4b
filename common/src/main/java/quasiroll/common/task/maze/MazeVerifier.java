package quasiroll.common.task.maze;

import java.util.Map;
import java.util.Set;
import quasiroll.common.task.FinalAnswer;
import quasiroll.common.task.TaskParams;
import quasiroll.common.task.Verifier;

/**
 * Maze: the final answer ({@link FinalAnswer}) is a move string of {@code U D L R} (whitespace and
 * commas between moves are ignored) that walks from S to G without leaving the grid or entering a
 * wall. Any such path scores 1, not only a shortest one.
 *
 * <p>Metadata: {@code maze} (rows joined by {@code /}, cells {@code . # S G}).
 */
public final class MazeVerifier implements Verifier {
  public static final Set<String> KEYS = Set.of("task", "maze");

  /** Longer answers are rejected outright: no sensible path revisits every cell 4 times. */
  private final int maxMoves;

  private final Maze maze;

  public MazeVerifier(Maze maze) {
    this.maze = maze;
    this.maxMoves = 4 * maze.rows() * maze.cols();
  }

  public static MazeVerifier fromMetadata(Map<String, String> metadata) {
    TaskParams p = new TaskParams("maze metadata", metadata).allowOnly(KEYS);
    return new MazeVerifier(Maze.parse(p.string("maze")));
  }

  @Override
  public double reward(String completionText) {
    String answer = FinalAnswer.of(completionText);
    StringBuilder moves = new StringBuilder();
    for (int i = 0; i < answer.length(); i++) {
      char ch = answer.charAt(i);
      if (Character.isWhitespace(ch) || ch == ',') {
        continue;
      }
      moves.append(ch);
      if (moves.length() > maxMoves) {
        return 0.0;
      }
    }
    return maze.solves(moves) ? 1.0 : 0.0;
  }
}
