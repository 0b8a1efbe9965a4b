package quasiroll.common.task.registry;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import quasiroll.common.error.BadInputException;
import quasiroll.common.task.Verifier;
import quasiroll.common.task.countdown.CountdownVerifier;
import quasiroll.common.task.custom.RegexVerifier;
import quasiroll.common.task.custom.RewardServiceVerifier;
import quasiroll.common.task.exact.ExactAnswerVerifier;
import quasiroll.common.task.maze.MazeVerifier;
import quasiroll.common.task.sudoku.SudokuVerifier;

/**
 * Builds a prompt's verifier from its metadata. The key {@link #TASK_KEY} names the task; the other
 * keys are the task's parameters (each verifier documents its keys and rejects unknown ones, except
 * {@code service}, which passes everything to the service). A prompt without {@link #TASK_KEY} has
 * no verifier.
 */
public final class Verifiers {
  public static final String TASK_KEY = "task";

  /** Every accepted {@code task} value. */
  public static final Set<String> TASKS =
      Set.of("countdown", "maze", "sudoku", "exact", "regex", "service");

  private Verifiers() {}

  /** True iff the metadata asks for a verifier (has a {@code task} key). */
  public static boolean requested(Map<String, String> metadata) {
    return metadata.containsKey(TASK_KEY);
  }

  /** Same as {@link #forPrompt} without prompt id and text (only {@code service} uses them). */
  public static Verifier forMetadata(Map<String, String> metadata) {
    return forPrompt("", "", metadata);
  }

  /**
   * The verifier for a prompt. Throws {@link BadInputException} naming the bad key or value and
   * what is accepted when the metadata has no or an unknown {@code task}, or bad parameters.
   */
  public static Verifier forPrompt(
      String promptId, String promptText, Map<String, String> metadata) {
    String task = metadata.get(TASK_KEY);
    if (task == null) {
      throw new BadInputException(
          "prompt '"
              + promptId
              + "' metadata has no '"
              + TASK_KEY
              + "' key; set "
              + TASK_KEY
              + " to one of "
              + new TreeSet<>(TASKS));
    }
    return switch (task) {
      case "countdown" -> CountdownVerifier.fromMetadata(metadata);
      case "maze" -> MazeVerifier.fromMetadata(metadata);
      case "sudoku" -> SudokuVerifier.fromMetadata(metadata);
      case "exact" -> ExactAnswerVerifier.fromMetadata(metadata);
      case "regex" -> RegexVerifier.fromMetadata(metadata);
      case "service" -> RewardServiceVerifier.fromMetadata(promptId, promptText, metadata);
      default ->
          throw new BadInputException(
              "unknown task '"
                  + task
                  + "' in metadata key '"
                  + TASK_KEY
                  + "'; accepted: "
                  + new TreeSet<>(TASKS));
    };
  }
}
