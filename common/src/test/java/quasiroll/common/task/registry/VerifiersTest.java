package quasiroll.common.task.registry;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import quasiroll.common.error.BadInputException;

class VerifiersTest {
  @Test
  void unknownTaskListsTheAcceptedOnes() {
    BadInputException e =
        assertThrows(
            BadInputException.class, () -> Verifiers.forMetadata(Map.of("task", "countdwn")));
    for (String name : Verifiers.TASKS) {
      assertTrue(e.getMessage().contains(name), e.getMessage());
    }
    assertTrue(e.getMessage().contains("'countdwn'"), e.getMessage());
  }

  @Test
  void missingTaskKey() {
    assertFalse(Verifiers.requested(Map.of("numbers", "1,2")));
    assertTrue(Verifiers.requested(Map.of("task", "maze")));
    BadInputException e =
        assertThrows(
            BadInputException.class, () -> Verifiers.forPrompt("p7", "", Map.of("numbers", "1,2")));
    assertTrue(e.getMessage().contains("p7") && e.getMessage().contains("task"), e.getMessage());
  }

  @Test
  void generatorRegistryRejectsUnknownNamesAndParameters() {
    BadInputException e =
        assertThrows(BadInputException.class, () -> TaskGenerators.forName("chess", Map.of()));
    assertTrue(
        e.getMessage().contains("countdown") && e.getMessage().contains("arithmetic"),
        e.getMessage());
    e =
        assertThrows(
            BadInputException.class, () -> TaskGenerators.forName("maze", Map.of("size", "5")));
    assertTrue(
        e.getMessage().contains("'size'") && e.getMessage().contains("rows"), e.getMessage());
    e =
        assertThrows(
            BadInputException.class,
            () -> TaskGenerators.forName("countdown", Map.of("count", "9")));
    assertTrue(
        e.getMessage().contains("count=9") && e.getMessage().contains("2..6"), e.getMessage());
    e =
        assertThrows(
            BadInputException.class, () -> TaskGenerators.forName("sudoku", Map.of("blanks", "x")));
    assertTrue(e.getMessage().contains("'x'"), e.getMessage());
    e =
        assertThrows(
            BadInputException.class,
            () ->
                TaskGenerators.forName("maze", Map.of("rows", "3", "cols", "3", "min_moves", "5")));
    assertTrue(e.getMessage().contains("min_moves=5"), e.getMessage());
  }
}
