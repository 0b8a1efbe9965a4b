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

class ExactAnswerVerifierTest {
  private final Verifier num = Verifiers.forMetadata(Map.of("task", "exact", "answer", "1042"));

  @ParameterizedTest
  @ValueSource(
      strings = {
        "#### 1042",
        "He has 1000+42=1042 coins. #### 1042",
        "#### 1,042",
        "#### $1042.",
        "#### 1042.0",
        "The answer is 1042",
        "<answer>1042</answer>",
        "12 + 1030 = 1042",
        "####1042 coins"
      })
  void acceptsTheRightNumber(String completion) {
    assertEquals(1.0, num.reward(completion));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "#### 1043",
        "1042 is wrong, it is 1043",
        "#### 1042 or 7",
        "#### -1042",
        "#### 10.42",
        "1042 #### 41",
        "",
        "#### ",
        "#### one thousand and forty-two"
      })
  void rejectsAnythingElse(String completion) {
    assertEquals(0.0, num.reward(completion));
  }

  @Test
  void negativeAndDecimalAnswers() {
    Verifier neg = Verifiers.forMetadata(Map.of("task", "exact", "answer", "-3.5"));
    assertEquals(1.0, neg.reward("#### -3.50"));
    assertEquals(0.0, neg.reward("#### 3.5"));
  }

  @Test
  void stringAnswersCompareExactlyAfterTrimming() {
    Verifier s = Verifiers.forMetadata(Map.of("task", "exact", "answer", "Paris"));
    assertEquals(1.0, s.reward("#### Paris "));
    assertEquals(1.0, s.reward("<answer> Paris</answer>"));
    assertEquals(0.0, s.reward("#### paris"));
    assertEquals(0.0, s.reward("#### Paris, France"));
    Verifier forced =
        Verifiers.forMetadata(Map.of("task", "exact", "answer", "42", "mode", "string"));
    assertEquals(0.0, forced.reward("#### 42.0"));
    assertEquals(1.0, forced.reward("#### 42"));
  }

  @Test
  void badMetadata() {
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () -> Verifiers.forMetadata(Map.of("task", "exact", "answer", "x", "mode", "number")));
    assertTrue(e.getMessage().contains("'x'"), e.getMessage());
    e =
        assertThrows(
            BadInputException.class,
            () -> Verifiers.forMetadata(Map.of("task", "exact", "answer", "1", "mode", "fuzzy")));
    assertTrue(
        e.getMessage().contains("fuzzy") && e.getMessage().contains("number"), e.getMessage());
  }
}
