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

class SudokuVerifierTest {
  private static Verifier sudoku(String puzzle) {
    return Verifiers.forMetadata(Map.of("task", "sudoku", "puzzle", puzzle));
  }

  // Solution: 1234 / 3412 / 2143 / 4321
  private final Verifier four = sudoku("1.3./..1./2.../...1");

  @ParameterizedTest
  @ValueSource(
      strings = {
        "1234 3412 2143 4321",
        "1234\n3412\n2143\n4321",
        "1234/3412/2143/4321",
        "1234341221434321"
      })
  void acceptsTheCompletionInAnyLayout(String answer) {
    assertEquals(1.0, four.reward(answer));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "1234 3412 2143 432", // 15 digits
        "1234 3412 2143 43211", // 17 digits
        "2134 3412 1243 4321", // breaks the given 1 in the top-left cell
        "1234 3412 2143 4312", // last row breaks columns
        "1234 1234 1234 1234", // columns repeat
        "1234 3412 2143 4320", // 0 is not a digit of the grid
        "1234 3412 2143 4351", // 5 out of range
        "",
        "no idea"
      })
  void rejectsWrongCompletions(String answer) {
    assertEquals(0.0, four.reward(answer));
  }

  @Test
  void rejectsAValidGridThatViolatesAGiven() {
    // Both grids are valid Sudokus; only the first keeps the given 1 in the top-left cell.
    Verifier v = sudoku("1.../..../..../....");
    assertEquals(1.0, v.reward("1234 3412 2143 4321"));
    assertEquals(0.0, v.reward("2143 4321 1234 3412"));
  }

  @Test
  void boxesAreChecked() {
    // Rows and columns are all permutations, but the top-left 2x2 box holds 1,2,2,1.
    Verifier v = sudoku("..../..../..../....");
    assertEquals(0.0, v.reward("1234 2341 3412 4123"));
    assertEquals(1.0, v.reward("1234 3412 2143 4321"));
  }

  @Test
  void nineByNine() {
    String solution =
        "534678912672195348198342567859761423426853791713924856961537284287419635345286179";
    StringBuilder puzzle = new StringBuilder(solution);
    for (int i = 0; i < 81; i += 2) {
      puzzle.setCharAt(i, '.');
    }
    Verifier v = sudoku(puzzle.toString());
    assertEquals(1.0, v.reward(solution));
    String swapped = solution.substring(0, 79) + solution.charAt(80) + solution.charAt(79);
    assertEquals(0.0, v.reward(swapped));
    // Rows 0 and 3 swapped: rows and columns stay permutations, the boxes do not.
    String rowsSwapped =
        solution.substring(27, 36)
            + solution.substring(9, 27)
            + solution.substring(0, 9)
            + solution.substring(36);
    assertEquals(0.0, v.reward(rowsSwapped));
  }

  @Test
  void badPuzzlesAreRejectedWithTheReason() {
    for (String[] bad :
        new String[][] {
          {"1.3./..1.", "expected 16 (4x4) or 81 (9x9)"},
          {"1.3./..1./2.5./...1", "'5'"},
          {"11../..../..../....", "repeats"},
          {"1.../1.../..../....", "repeats"},
          {"1.../.1../..../....", "repeats"},
        }) {
      BadInputException e = assertThrows(BadInputException.class, () -> sudoku(bad[0]));
      assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
    }
  }
}
