package quasiroll.worker.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.ModelTensors;
import quasiroll.worker.model.TensorData;
import quasiroll.worker.model.fixture.TinyModelSpec;
import quasiroll.worker.runtime.DecodeSession;

class CpuBackendTest {
  private static final long BUDGET = 1L << 30;
  private static final int[] PROMPT = {1, 17, 5, 42, 9, 63, 3, 300, 211};

  /** Largest |a - b| relative to the largest |b|. */
  private static double relativeError(float[] a, int ao, double[] b) {
    double err = 0;
    double scale = 0;
    for (int i = 0; i < b.length; i++) {
      err = Math.max(err, Math.abs(a[ao + i] - b[i]));
      scale = Math.max(scale, Math.abs(b[i]));
    }
    return err / scale;
  }

  static Stream<Arguments> models() {
    return Stream.of(
        Arguments.of(TinyModelSpec.llamaGqa(1), DType.F32),
        Arguments.of(TinyModelSpec.qwen2Tied(2), DType.F32),
        Arguments.of(TinyModelSpec.llamaRopeScaled(3), DType.F32),
        Arguments.of(TinyModelSpec.qwen2Tied(4), DType.Q8_0),
        Arguments.of(TinyModelSpec.llamaGqa(5), DType.Q4_0),
        Arguments.of(TinyModelSpec.llamaRopeScaled(6), DType.BF16),
        Arguments.of(TinyModelSpec.qwen2Tied(7), DType.F16));
  }

  /**
   * Prompt logits and three decode steps of two sequences against the double-precision reference:
   * GQA, q/k/v biases, tied embeddings, Llama 3.1 RoPE scaling, every dtype. f32 arithmetic through
   * a 2-layer model stays within 1e-4 of the logits' scale (observed ~1e-6).
   */
  @ParameterizedTest
  @MethodSource("models")
  void matchesReferenceForwardPass(TinyModelSpec spec, DType dtype) {
    TestModel m = new TestModel(spec, dtype);
    ReferenceLlama ref = m.reference();
    int vocab = m.config.vocabSize();
    try (CpuBackend b = m.backend(2, BUDGET);
        DecodeSession s = b.open(PROMPT, 2, 4)) {
      assertTrue(relativeError(s.promptLogits(), 0, ref.logits(PROMPT)) < 1e-4, "prompt logits");
      int[] seq0 = PROMPT.clone();
      int[] seq1 = PROMPT.clone();
      float[] logits = new float[2 * vocab];
      for (int step = 0; step < 3; step++) {
        int t0 = 10 + step;
        int t1 = 70 - 7 * step;
        s.step(new int[] {0, 1}, new int[] {t0, t1}, 2, logits);
        seq0 = append(seq0, t0);
        seq1 = append(seq1, t1);
        assertTrue(relativeError(logits, 0, ref.logits(seq0)) < 1e-4, "seq 0 step " + step);
        assertTrue(relativeError(logits, vocab, ref.logits(seq1)) < 1e-4, "seq 1 step " + step);
      }
      assertEquals(PROMPT.length + 3, s.length(0));
    }
  }

  /** Prefill spans several chunks: prompt logits still match the reference. */
  @Test
  void longPromptPrefillsInChunks() {
    TestModel m = new TestModel(TinyModelSpec.qwen2Tied(8), DType.F32);
    int[] prompt = new int[CpuDecodeSession.PREFILL_CHUNK * 2 + 5];
    for (int i = 0; i < prompt.length; i++) {
      prompt[i] = (i * 31 + 7) % m.config.vocabSize();
    }
    try (CpuBackend b = m.backend(1, BUDGET)) {
      double[] ref = m.reference().logits(prompt);
      assertTrue(relativeError(b.open(prompt, 1, 0).promptLogits(), 0, ref) < 1e-4);
    }
  }

  /**
   * Each sequence's logits are bit-identical whether it steps alone or with any others, in any
   * order, and whether the backend has 1 or 3 threads.
   */
  @Test
  void logitsIndependentOfBatchCompositionAndThreadCount() {
    TestModel m = new TestModel(TinyModelSpec.qwen2Tied(9), DType.Q8_0);
    int vocab = m.config.vocabSize();
    int seqs = 5;
    int steps = 4;
    float[][][] alone = new float[seqs][steps][];
    try (CpuBackend b = m.backend(1, BUDGET);
        DecodeSession s = b.open(PROMPT, seqs, steps)) {
      for (int q = 0; q < seqs; q++) {
        for (int t = 0; t < steps; t++) {
          float[] out = new float[vocab];
          s.step(new int[] {q}, new int[] {token(q, t)}, 1, out);
          alone[q][t] = out;
        }
      }
    }
    try (CpuBackend b = m.backend(3, BUDGET);
        DecodeSession s = b.open(PROMPT, seqs, steps)) {
      // Step t runs the live sequences in reverse order split into a batch of t+1 and a batch
      // of the rest; sequence 1 is released after step 1.
      for (int t = 0; t < steps; t++) {
        List<Integer> live = new ArrayList<>();
        for (int q = seqs - 1; q >= 0; q--) {
          if (!(q == 1 && t > 1)) {
            live.add(q);
          }
        }
        int split = Math.min(t + 1, live.size());
        for (List<Integer> part :
            List.of(live.subList(0, split), live.subList(split, live.size()))) {
          if (part.isEmpty()) {
            continue;
          }
          int[] ids = part.stream().mapToInt(Integer::intValue).toArray();
          int[] toks = new int[ids.length];
          for (int j = 0; j < ids.length; j++) {
            toks[j] = token(ids[j], t);
          }
          float[] out = new float[ids.length * vocab];
          s.step(ids, toks, ids.length, out);
          for (int j = 0; j < ids.length; j++) {
            assertArrayEquals(
                alone[ids[j]][t],
                Arrays.copyOfRange(out, j * vocab, (j + 1) * vocab),
                "sequence " + ids[j] + " step " + t + " in batch " + part);
          }
        }
        if (t == 1) {
          s.release(1);
        }
      }
    }
  }

  private static int token(int seq, int step) {
    return (seq * 13 + step * 7 + 3) % 400;
  }

  @Test
  void refusesSessionsOverTheMemoryBudgetWithTheNumbers() {
    TestModel m = new TestModel(TinyModelSpec.llamaGqa(1), DType.F32);
    try (CpuBackend b = m.backend(1, 2_000_000)) {
      long need = b.sessionBytes(PROMPT.length, 64, 100);
      assertTrue(need > 2_000_000);
      // At least the KV cache: prompt + 100 new tokens for each of 64 sequences.
      assertTrue(need >= (PROMPT.length + 100L) * 64 * m.config.kvBytesPerToken());
      BadInputException e = assertThrows(BadInputException.class, () -> b.open(PROMPT, 64, 100));
      assertTrue(e.getMessage().contains(Long.toString(need)), e.getMessage());
      assertTrue(e.getMessage().contains("2000000"), e.getMessage());
      b.open(PROMPT, 1, 1).close();
    }
  }

  @Test
  void refusesPromptsLongerThanTheContextAndBadTokens() {
    TestModel m = new TestModel(TinyModelSpec.llamaGqa(1), DType.F32);
    int ctx = m.config.contextLength();
    try (CpuBackend b = m.backend(1, BUDGET)) {
      BadInputException e =
          assertThrows(BadInputException.class, () -> b.open(new int[ctx + 1], 1, 1));
      assertTrue(
          e.getMessage().contains(Integer.toString(ctx + 1))
              && e.getMessage().contains(Integer.toString(ctx)),
          e.getMessage());
      assertThrows(BadInputException.class, () -> b.open(new int[0], 1, 1));
      assertThrows(BadInputException.class, () -> b.open(new int[] {m.config.vocabSize()}, 1, 1));
      // A prompt filling the context leaves no room: stepping is refused, not silently wrong.
      DecodeSession s = b.open(new int[ctx], 1, 5);
      assertThrows(
          IllegalStateException.class,
          () -> s.step(new int[] {0}, new int[] {1}, 1, new float[m.config.vocabSize()]));
    }
  }

  @Test
  void missingTensorIsNamed() {
    TestModel m = new TestModel(TinyModelSpec.llamaGqa(1), DType.F32);
    Map<String, TensorData> t = new HashMap<>(m.tensors);
    t.remove(ModelTensors.layer(1, "mlp.up_proj.weight"));
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () -> new CpuBackend("x", m.config, t, new double[8], 1, BUDGET));
    assertTrue(e.getMessage().contains("model.layers.1.mlp.up_proj.weight"), e.getMessage());
  }

  private static int[] append(int[] a, int t) {
    int[] r = Arrays.copyOf(a, a.length + 1);
    r[a.length] = t;
    return r;
  }
}
