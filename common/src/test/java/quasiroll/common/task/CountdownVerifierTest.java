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

class CountdownVerifierTest {
  private static Verifier countdown(String numbers, String target) {
    return Verifiers.forMetadata(Map.of("task", "countdown", "numbers", numbers, "target", target));
  }

  private final Verifier v = countdown("3,5,7", "22");

  @ParameterizedTest
  @ValueSource(
      strings = {
        "3*5+7",
        "7+3*5",
        "5*3+7",
        " ( 3 * 5 ) + 7 ",
        "7+5*3",
        "3*5+7 = 22",
        "<answer>3*5+7</answer>",
        "let me think... #### 3*5+7",
        "(7+5*3)"
      })
  void acceptsCorrectExpressions(String answer) {
    assertEquals(1.0, v.reward(answer));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "3*5+6", // wrong number, right value? no: 21
        "3*5+7+0", // 0 is not given
        "3*5+7*1", // extra number
        "3*5+3+3+7-6", // reuse and extras
        "22", // a bare target is not an expression over the numbers
        "3*5+7 = 21", // claims another target
        "3*5+7=22=22",
        "3*5+",
        "3**5+7",
        "3 5 7",
        "(3*5+7",
        "3*5)+7",
        "-3+25", // malformed or unary minus
        "3.0*5+7",
        "3*5+7.",
        "",
        "   ",
        "x",
        "3×5+7",
        "7*3+5", // = 26
      })
  void rejectsWrongOrMalformedAnswers(String answer) {
    assertEquals(0.0, v.reward(answer));
  }

  @Test
  void eachGivenNumberAtMostOnce() {
    Verifier twice = countdown("3,3,4", "10");
    assertEquals(1.0, twice.reward("3+3+4"));
    assertEquals(0.0, countdown("3,4", "10").reward("3+3+4"));
    assertEquals(1.0, countdown("2,5,9", "7").reward("9-2"), "not all numbers need to be used");
    Verifier all =
        Verifiers.forMetadata(
            Map.of("task", "countdown", "numbers", "2,5,9", "target", "7", "use_all", "true"));
    assertEquals(0.0, all.reward("9-2"));
    assertEquals(1.0, all.reward("(9+5)/2"));
    assertEquals(0.0, all.reward("(9+5)/2*5/5"), "5 used twice");
  }

  @Test
  void divisionMustBeExact() {
    assertEquals(1.0, countdown("8,4,3", "5").reward("8/4+3"));
    assertEquals(0.0, countdown("7,2,3", "6").reward("7/2*3"), "7/2 leaves a remainder");
    assertEquals(0.0, countdown("7,2,3", "6").reward("(7+3)/2+1"), "1 is not given");
    assertEquals(1.0, countdown("7,3,2", "5").reward("(7+3)/2"));
    assertEquals(0.0, countdown("4,2,2", "0").reward("4/(2-2)"), "division by zero");
  }

  @Test
  void arithmeticIsExactForLargeValues() {
    // 10^20 + 1 is not representable as a double: floating point would accept both.
    assertEquals(
        1.0,
        countdown("10000000000,10000000000,1", "100000000000000000001")
            .reward("10000000000*10000000000+1"));
    assertEquals(
        0.0,
        countdown("10000000000,10000000000,1", "100000000000000000000")
            .reward("10000000000*10000000000+1"));
  }

  @Test
  void hostileInputsScoreZeroWithoutThrowing() {
    assertEquals(0.0, v.reward("(".repeat(100_000) + "3" + ")".repeat(100_000)));
    assertEquals(0.0, v.reward("(".repeat(100) + "3*5+7" + ")".repeat(100)));
    assertEquals(0.0, v.reward("9".repeat(5000)));
    assertEquals(1.0, v.reward("(".repeat(20) + "3*5+7" + ")".repeat(20)));
  }

  @Test
  void badMetadataNamesTheProblem() {
    BadInputException e = assertThrows(BadInputException.class, () -> countdown("3,x,7", "22"));
    assertTrue(e.getMessage().contains("'x'"), e.getMessage());
    e = assertThrows(BadInputException.class, () -> countdown("3,5,7", "twenty"));
    assertTrue(e.getMessage().contains("target"), e.getMessage());
    e = assertThrows(BadInputException.class, () -> countdown("3,-5,7", "22"));
    assertTrue(e.getMessage().contains("negative"), e.getMessage());
    e =
        assertThrows(
            BadInputException.class,
            () ->
                Verifiers.forMetadata(
                    Map.of("task", "countdown", "numbers", "1,2", "target", "3", "nums", "1")));
    assertTrue(
        e.getMessage().contains("'nums'") && e.getMessage().contains("numbers"), e.getMessage());
    e =
        assertThrows(
            BadInputException.class,
            () -> Verifiers.forMetadata(Map.of("task", "countdown", "target", "3")));
    assertTrue(e.getMessage().contains("'numbers'"), e.getMessage());
  }
}
