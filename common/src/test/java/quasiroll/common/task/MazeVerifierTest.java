package quasiroll.common.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import quasiroll.common.error.BadInputException;
import quasiroll.common.task.registry.Verifiers;

class MazeVerifierTest {
  // S . #
  // . # .
  // . . G
  private final Verifier v = Verifiers.forMetadata(Map.of("task", "maze", "maze", "S.#/.#./..G"));

  @ParameterizedTest
  @ValueSource(
      strings = {
        "DDRR",
        "D D R R",
        "D,D,R,R",
        "RLDDRR",
        "DUDDRR",
        "<answer>DDRR</answer>",
        "#### DDRR\n"
      })
  void acceptsPathsThatReachTheGoal(String answer) {
    assertEquals(1.0, v.reward(answer));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "RR", // into the wall at (0,2)
        "RDDR", // (1,1) is a wall
        "DDR", // stops short of G
        "DDRRU", // passes G but ends elsewhere
        "U",
        "L",
        "DDDRR", // off the grid
        "ddrr",
        "DDRRX",
        "D-D-R-R",
        "",
        "down down right right"
      })
  void rejectsInvalidPaths(String answer) {
    assertEquals(0.0, v.reward(answer));
  }

  @Test
  void absurdlyLongAnswersScoreZero() {
    assertEquals(0.0, v.reward("RL".repeat(100) + "DDRR"));
    assertEquals(1.0, v.reward("RL".repeat(10) + "DDRR"));
  }

  @Test
  void badMazesAreRejectedWithTheReason() {
    for (String[] bad :
        new String[][] {
          {"S.#/.#/..G", "different lengths"},
          {"S.#/.#./...", "exactly one of each"},
          {"S.#/SG./...", "exactly one of each"},
          {"S.x/.#./..G", "'x'"},
        }) {
      BadInputException e =
          assertThrows(
              BadInputException.class,
              () -> Verifiers.forMetadata(Map.of("task", "maze", "maze", bad[0])));
      assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
    }
    assertThrows(BadInputException.class, () -> Verifiers.forMetadata(Map.of("task", "maze")));
  }
}
