package quasiroll.worker.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;
import quasiroll.common.error.BadInputException;

class MemoryPlanTest {
  // Llama-3-8B's shape
  private static final ModelConfig LLAMA3_8B =
      new ModelConfig(
          "llama",
          128256,
          4096,
          14336,
          32,
          32,
          8,
          128,
          8192,
          500000,
          null,
          1e-5,
          false,
          false,
          128000,
          Set.of(128001));

  @Test
  void kvBytesPerTokenFollowsTheFormula() {
    // 2 * 32 layers * 8 kv heads * 128 dims * 4 bytes = 262144
    assertEquals(262144, LLAMA3_8B.kvBytesPerToken());
    MemoryPlan p = MemoryPlan.of(LLAMA3_8B, 8_000_000_000L);
    assertEquals(262144L * 16 * (100 + 200), p.kvBytes(16, 100, 200));
    long perToken = 3L * 4096 + 4096 + 2 * 1024 + 3L * 14336 + 32L * 300;
    assertEquals(100 * perToken * 4, p.activationBytes(16, 100, 200));
    assertEquals(16L * 128256 * 4, p.logitsBytes(16));
    assertEquals(
        p.kvBytes(16, 100, 200) + p.activationBytes(16, 100, 200) + p.logitsBytes(16),
        p.sessionBytes(16, 100, 200));
    assertEquals(8_000_000_000L + p.sessionBytes(16, 100, 200), p.peakBytes(16, 100, 200));
  }

  @Test
  void refusesAJobOverBudgetWithTheNumbers() {
    MemoryPlan p = MemoryPlan.of(LLAMA3_8B, 0);
    long need = p.sessionBytes(64, 512, 1024);
    BadInputException e =
        assertThrows(BadInputException.class, () -> p.requireFits(64, 512, 1024, need - 1));
    assertTrue(e.getMessage().contains(Long.toString(need)), e.getMessage());
    assertTrue(e.getMessage().contains("memory-budget-bytes"), e.getMessage());
    p.requireFits(64, 512, 1024, need);
    int k = p.maxSamples(512, 1024, need);
    assertTrue(k >= 64 && p.sessionBytes(k + 1, 512, 1024) > need);
  }
}
