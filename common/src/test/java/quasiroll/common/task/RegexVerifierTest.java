package quasiroll.common.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import quasiroll.common.error.BadInputException;
import quasiroll.common.task.registry.Verifiers;

class RegexVerifierTest {
  private static Verifier regex(String pattern, String... kv) {
    Map<String, String> m = new HashMap<>(Map.of("task", "regex", "pattern", pattern));
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return Verifiers.forMetadata(m);
  }

  @Test
  void fullMatchOnTheFinalAnswerByDefault() {
    Verifier v = regex("[A-D]");
    assertEquals(1.0, v.reward("I think... #### B"));
    assertEquals(1.0, v.reward(" C "));
    assertEquals(0.0, v.reward("B or C"));
    assertEquals(0.0, v.reward("E"));
  }

  @Test
  void findAndWholeCompletion() {
    Verifier find = regex("\\bfoo\\b", "match", "find", "on", "completion");
    assertEquals(1.0, find.reward("a foo b #### c"));
    assertEquals(0.0, find.reward("food"));
    Verifier full = regex("a.*c", "on", "completion");
    assertEquals(1.0, full.reward("a #### c"));
    assertEquals(0.0, regex("a.*c").reward("a #### c"), "the final answer is just 'c'");
  }

  @Test
  void badPatternAndOptions() {
    BadInputException e = assertThrows(BadInputException.class, () -> regex("(unclosed"));
    assertTrue(e.getMessage().contains("(unclosed"), e.getMessage());
    e = assertThrows(BadInputException.class, () -> regex("a", "match", "partial"));
    assertTrue(
        e.getMessage().contains("partial") && e.getMessage().contains("find"), e.getMessage());
    assertThrows(BadInputException.class, () -> Verifiers.forMetadata(Map.of("task", "regex")));
  }
}
