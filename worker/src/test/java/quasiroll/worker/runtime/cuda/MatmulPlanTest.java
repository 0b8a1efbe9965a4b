package quasiroll.worker.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import quasiroll.worker.model.DType;

/** Tiling and split-K layout math of the tensor-core matmul (what the kernel relies on). */
class MatmulPlanTest {
  private static final int[][] SHAPES = {
    {1152, 896},
    {896, 896},
    {9728, 896},
    {896, 4864},
    {151936, 896},
    {1000, 64},
    {24, 8},
    {4096, 14336}
  };

  @Test
  void splitDependsOnlyOnTheWeightShapeSoRowsAreBatchInvariant() {
    for (int[] s : SHAPES) {
      MatmulPlan one = MatmulPlan.of(1, s[0], s[1]);
      for (int rows : new int[] {2, 16, 17, 64, 65, 256, 512}) {
        MatmulPlan p = MatmulPlan.of(rows, s[0], s[1]);
        assertEquals(one.splits(), p.splits());
        assertEquals(one.kPerSplit(), p.kPerSplit());
      }
    }
  }

  @Test
  void splitsCoverKExactlyWithNoEmptySplit() {
    for (int[] s : SHAPES) {
      MatmulPlan p = MatmulPlan.of(1, s[0], s[1]);
      assertEquals(0, p.kPerSplit() % MatmulPlan.K_STEP, "K ranges start on 32-wide steps");
      assertTrue((long) p.splits() * p.kPerSplit() >= s[1], "splits cover K");
      assertTrue((long) (p.splits() - 1) * p.kPerSplit() < s[1], "last split is not empty");
      assertTrue(
          p.splits() == 1 || p.kPerSplit() >= MatmulPlan.K_STEP * MatmulPlan.MIN_STEPS_PER_SPLIT);
    }
  }

  @Test
  void decodeShapesOfQwen05bFillTheGpu() {
    // 896-wide outputs have only 14 column tiles: split-K must bring them to ~256 blocks.
    MatmulPlan down = MatmulPlan.of(1, 896, 4864);
    assertEquals(19, down.splits());
    assertTrue(down.gridX() * down.splits() >= 256);
    assertEquals(1, MatmulPlan.of(1, 151936, 896).splits(), "the LM head has 2374 tiles already");
  }

  @Test
  void rowTilesAndKernelNames() {
    assertEquals("matmul_bf16_m16", MatmulPlan.of(16, 64, 64).kernel(DType.BF16));
    assertEquals("matmul_f16_m32", MatmulPlan.of(17, 64, 64).kernel(DType.F16));
    assertEquals("matmul_bf16_m64", MatmulPlan.of(200, 64, 64).kernel(DType.BF16));
    assertEquals(4, MatmulPlan.of(200, 64, 64).gridY());
    assertEquals(3, MatmulPlan.of(1, 129, 64).gridX());
    assertEquals(0, MatmulPlan.of(5, 151936, 896).partialFloats());
    assertEquals(19L * 5 * 896, MatmulPlan.of(5, 896, 4864).partialFloats());
    assertThrows(IllegalArgumentException.class, () -> MatmulPlan.of(1, 64, 60));
    assertThrows(IllegalArgumentException.class, () -> MatmulPlan.of(1, 64, 64).kernel(DType.Q8_0));
  }
}
