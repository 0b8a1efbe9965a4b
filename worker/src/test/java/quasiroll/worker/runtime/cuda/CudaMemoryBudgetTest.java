package quasiroll.worker.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.ModelConfig;

/** The up-front device memory arithmetic, on Qwen2-0.5B's shapes (checked by hand). */
class CudaMemoryBudgetTest {
  private static final ModelConfig QWEN05 =
      new ModelConfig(
          "qwen2",
          151936,
          896,
          4864,
          24,
          14,
          2,
          64,
          32768,
          1e6,
          null,
          1e-6,
          true,
          true,
          151643,
          Set.of(151643));

  @Test
  void weightsOfQwen05bInBf16() {
    long h = 896;
    long perLayer =
        2 * h * 4 + 1152 * h * 2 + 1152 * 4 + h * 896 * 2 + 2 * 4864 * h * 2 + h * 4864 * 2;
    long expected = 151936 * h * 2 + h * 4 + 24 * perLayer + 2L * 32768 * 32 * 4;
    assertEquals(expected, CudaMemoryBudget.weightBytes(QWEN05, DType.BF16));
    // 494M parameters in 2 bytes each, plus f32 norms/biases and 8 MiB of RoPE tables
    assertTrue(Math.abs(expected - 2 * 494_032_768L) < 20L << 20, "" + expected);
    // an F32 embedding table tied to the head keeps a BF16 copy for the head
    assertEquals(
        expected + 151936 * h * 2 + 151936 * h * 2,
        CudaMemoryBudget.weightBytes(QWEN05, DType.F32));
  }

  @Test
  void kvCacheIsPromptOncePlusNewTokensPerSequence() {
    long perToken = 2L * 24 * 2 * 64 * 4; // K and V, 24 layers, 2 kv heads x 64, f32
    assertEquals(perToken * (100 + 256L * 128), CudaMemoryBudget.kvBytes(QWEN05, 100, 256, 128));
  }

  @Test
  void sessionGrowsWithTheShardAndRowsAreBoundedByThePrefillChunk() {
    long small = CudaMemoryBudget.sessionBytes(QWEN05, 16, 1, 128);
    long big = CudaMemoryBudget.sessionBytes(QWEN05, 16, 256, 128);
    assertTrue(big > small);
    assertEquals(512, CudaMemoryBudget.maxRows(10_000, 64));
    assertEquals(256, CudaMemoryBudget.maxRows(16, 256));
    // logits of 256 rows alone are 155 MB; the whole shard stays under 2 GB
    assertTrue(big > 256L * 151936 * 4 && big < 2L << 30, "" + big);
  }

  @Test
  void refusalNamesTheNumbers() {
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () ->
                CudaMemoryBudget.requireFits(
                    "a shard", 10L << 30, 8L << 30, "cuda:0 (Test GPU)", "use smaller shards"));
    assertTrue(e.getMessage().contains("10240 MiB"), e.getMessage());
    assertTrue(e.getMessage().contains("8192 MiB free"), e.getMessage());
    assertTrue(e.getMessage().contains("cuda:0"), e.getMessage());
    assertTrue(e.getMessage().contains("use smaller shards"), e.getMessage());
    assertDoesNotThrow(() -> CudaMemoryBudget.requireFits("x", 1L << 30, 2L << 30, "cuda:0", ""));
  }
}
