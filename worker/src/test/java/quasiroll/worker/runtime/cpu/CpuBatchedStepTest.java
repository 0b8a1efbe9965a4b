package quasiroll.worker.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.fixture.TinyModelSpec;
import quasiroll.worker.runtime.DecodeSession;

/**
 * {@link CpuBackend#step} with many sessions: deferred prompts computed inside a pass that also
 * decodes other sessions' rows give bit-identical prompt logits, and every decode row bit-identical
 * logits, to each session opened and stepped alone.
 */
class CpuBatchedStepTest {
  static Stream<Arguments> models() {
    return Stream.of(
        Arguments.of(TinyModelSpec.llamaGqa(1), DType.F32),
        Arguments.of(TinyModelSpec.qwen2Tied(4), DType.Q8_0),
        Arguments.of(TinyModelSpec.llamaGqa(5), DType.Q4_0),
        Arguments.of(TinyModelSpec.qwen2Tied(7), DType.F16));
  }

  @ParameterizedTest
  @MethodSource("models")
  void rowsOfManySessionsEqualSoloSteps(TinyModelSpec spec, DType dtype) {
    TestModel m = new TestModel(spec, dtype);
    int vocab = m.config.vocabSize();
    int[] promptA = {1, 5, 9, 2, 7};
    int[] promptB = {3};
    int[] promptC = {4, 4, 8, 1, 0, 6, 2, 3, 9};
    try (CpuBackend b = m.backend(2, Long.MAX_VALUE)) {
      // Solo: each session alone, two steps of its sequences.
      float[][] solo = new float[3][];
      float[] soloPromptC;
      try (DecodeSession a = b.open(promptA, 2, 4);
          DecodeSession bb = b.open(promptB, 3, 4);
          DecodeSession c = b.open(promptC, 1, 4)) {
        soloPromptC = c.promptLogits();
        solo[0] = new float[2 * vocab];
        a.step(new int[] {0, 1}, new int[] {11, 12}, 2, solo[0]);
        solo[1] = new float[3 * vocab];
        bb.step(new int[] {2, 0, 1}, new int[] {13, 14, 15}, 3, solo[1]);
        solo[2] = new float[vocab];
        c.step(new int[] {0}, new int[] {16}, 1, solo[2]);
      }
      // Batched: A and B decode while C's prompt is computed in the same pass.
      try (DecodeSession a = b.open(promptA, 2, 4);
          DecodeSession bb = b.open(promptB, 3, 4);
          DecodeSession c = b.openDeferred(promptC, 1, 4)) {
        assertThrows(IllegalStateException.class, c::promptLogits);
        float[] rows = new float[5 * vocab];
        b.step(
            List.of(c),
            new DecodeSession[] {bb, a, bb, a, bb},
            new int[] {2, 0, 0, 1, 1},
            new int[] {13, 11, 14, 12, 15},
            5,
            rows);
        assertArrayEquals(soloPromptC, c.promptLogits());
        assertArrayEquals(slice(solo[1], 0, vocab), slice(rows, 0, vocab));
        assertArrayEquals(slice(solo[0], 0, vocab), slice(rows, 1, vocab));
        assertArrayEquals(slice(solo[1], 1, vocab), slice(rows, 2, vocab));
        assertArrayEquals(slice(solo[0], 1, vocab), slice(rows, 3, vocab));
        assertArrayEquals(slice(solo[1], 2, vocab), slice(rows, 4, vocab));
        float[] one = new float[vocab];
        b.step(List.of(), new DecodeSession[] {c}, new int[] {0}, new int[] {16}, 1, one);
        assertArrayEquals(solo[2], one);
        // A second shard of prompt C shares C's prompt cache: same prompt logits, same rows.
        try (DecodeSession d = b.openSharing(c, 2, 4)) {
          assertArrayEquals(soloPromptC, d.promptLogits());
          float[] two = new float[2 * vocab];
          b.step(
              List.of(), new DecodeSession[] {d, d}, new int[] {1, 0}, new int[] {16, 16}, 2, two);
          assertArrayEquals(solo[2], slice(two, 0, vocab));
          assertArrayEquals(solo[2], slice(two, 1, vocab));
        }
        // Sharing a prompt that is still pending: computed once, inside the base's first step.
        try (DecodeSession e = b.openDeferred(promptC, 1, 4);
            DecodeSession f = b.openSharing(e, 1, 4)) {
          assertThrows(IllegalStateException.class, f::promptLogits);
          b.step(List.of(e), new DecodeSession[0], new int[0], new int[0], 0, new float[0]);
          assertArrayEquals(soloPromptC, f.promptLogits());
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  b.step(
                      List.of(f), new DecodeSession[0], new int[0], new int[0], 0, new float[0]));
        }
        assertThrows(
            IllegalArgumentException.class,
            () ->
                b.step(
                    List.of(),
                    new DecodeSession[] {a, a},
                    new int[] {0, 0},
                    new int[] {1, 2},
                    2,
                    new float[2 * vocab]));
        assertThrows(
            IllegalArgumentException.class,
            () ->
                b.step(List.of(c), new DecodeSession[0], new int[0], new int[0], 0, new float[0]));
      }
    }
  }

  private static float[] slice(float[] a, int row, int vocab) {
    return java.util.Arrays.copyOfRange(a, row * vocab, (row + 1) * vocab);
  }
}
