package quasiroll.common.task.registry;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import quasiroll.common.error.BadInputException;
import quasiroll.common.task.TaskGenerator;
import quasiroll.common.task.countdown.CountdownGenerator;
import quasiroll.common.task.exact.ArithmeticGenerator;
import quasiroll.common.task.maze.MazeGenerator;
import quasiroll.common.task.sudoku.SudokuGenerator;

/** The bundled task generators by name, each configured by string parameters. */
public final class TaskGenerators {
  private static final Map<String, Function<Map<String, String>, TaskGenerator>> BY_NAME =
      new TreeMap<>(
          Map.of(
              "countdown", CountdownGenerator::fromParams,
              "maze", MazeGenerator::fromParams,
              "sudoku", SudokuGenerator::fromParams,
              "arithmetic", ArithmeticGenerator::fromParams));

  private TaskGenerators() {}

  public static Iterable<String> names() {
    return BY_NAME.keySet();
  }

  /** The generator {@code name} with {@code params} (absent keys take the defaults). */
  public static TaskGenerator forName(String name, Map<String, String> params) {
    Function<Map<String, String>, TaskGenerator> factory = BY_NAME.get(name);
    if (factory == null) {
      throw new BadInputException(
          "unknown task generator '"
              + name
              + "'; accepted: "
              + String.join(", ", BY_NAME.keySet()));
    }
    return factory.apply(params);
  }
}
