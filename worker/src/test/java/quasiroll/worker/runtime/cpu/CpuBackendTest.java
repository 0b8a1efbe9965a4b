package quasiroll.worker.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.ModelConfig;
import quasiroll.worker.model.TensorData;
import quasiroll.worker.runtime.DecodeSession;
import quasiroll.worker.runtime.transformer.RopeLayout;

class CpuBackendTest {
  private static final long BUDGET = 1L << 30;
  private static final int[] PROMPT = {1, 17, 5, 42, 9, 63, 3};

  private static CpuBackend backend(TinyModel m, RopeLayout layout, int threads) {
    return new CpuBackend("tiny", m.config, m.tensors, layout, threads, BUDGET);
  }

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

  /**
   * Prompt logits and three decode steps against the double-precision reference; f32
   * arithmetic of a 2-layer model stays within 1e-4 of the logits' scale.
   */
  @ParameterizedTest
  @CsvSource({
    "false, false, F32, HALF_SPLIT",
    "true, false, F32, HALF_SPLIT",
    "false, true, F32, INTERLEAVED",
    "true, false, Q8_0, HALF_SPLIT",
    "false, false, Q4_0, INTERLEAVED",
    "false, true, BF16, HALF_SPLIT",
    "true, false, F16, HALF_SPLIT"
  })
  void matchesReferenceForwardPass(boolean qwen, boolean llama3, DType dtype, RopeLayout layout) {
    TinyModel m = new TinyModel(TinyModel.config(qwen, llama3), dtype, 3);
    ReferenceLlama ref = new ReferenceLlama(m.config, m.values, layout);
    int vocab = m.config.vocabSize();
    try (CpuBackend b = backend(m, layout, 2);
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

  /**
   * llama.cpp's converter permutes each head's q/k rows from half-split to interleaved order;
   * such weights run with INTERLEAVED must give the logits of the original with HALF_SPLIT.
   */
  @Test
  void interleavedLayoutOfPermutedWeightsEqualsHalfSplit() {
    TinyModel hf = new TinyModel(TinyModel.config(false, false), DType.F32, 5);
    TinyModel gguf = new TinyModel(TinyModel.config(false, false), DType.F32, 5);
    ModelConfig c = hf.config;
    for (int l = 0; l < c.numLayers(); l++) {
      permute(gguf, hf, "model.layers." + l + ".self_attn.q_proj.weight", c.numHeads(), c);
      permute(gguf, hf, "model.layers." + l + ".self_attn.k_proj.weight", c.numKvHeads(), c);
    }
    try (CpuBackend a = backend(hf, RopeLayout.HALF_SPLIT, 1);
        CpuBackend b = backend(gguf, RopeLayout.INTERLEAVED, 1)) {
      float[] la = a.open(PROMPT, 1, 0).promptLogits();
      float[] lb = b.open(PROMPT, 1, 0).promptLogits();
      double[] da = new double[la.length];
      for (int i = 0; i < la.length; i++) {
        da[i] = la[i];
      }
      assertTrue(relativeError(lb, 0, da) < 1e-5);
    }
  }

  private static void permute(TinyModel dst, TinyModel src, String name, int heads, ModelConfig c) {
    float[] v = src.values.get(name);
    int hd = c.headDim();
    int cols = c.hiddenSize();
    float[] p = new float[v.length];
    for (int h = 0; h < heads; h++) {
      for (int i = 0; i < hd / 2; i++) {
        System.arraycopy(v, (h * hd + i) * cols, p, (h * hd + 2 * i) * cols, cols);
        System.arraycopy(v, (h * hd + i + hd / 2) * cols, p, (h * hd + 2 * i + 1) * cols, cols);
      }
    }
    dst.put(name, DType.F32, new long[] {heads * hd, cols}, p);
  }

  /**
   * Each sequence's logits are bit-identical whether it steps alone or with any others, and
   * whether the backend has 1 or 3 threads.
   */
  @Test
  void logitsIndependentOfBatchCompositionAndThreadCount() {
    TinyModel m = new TinyModel(TinyModel.config(true, false), DType.Q8_0, 9);
    int vocab = m.config.vocabSize();
    int seqs = 5;
    int steps = 4;
    // alone[s][t]: sequence s stepped on its own with 1 thread
    float[][][] alone = new float[seqs][steps][];
    try (CpuBackend b = backend(m, RopeLayout.HALF_SPLIT, 1);
        DecodeSession s = b.open(PROMPT, seqs, steps)) {
      for (int q = 0; q < seqs; q++) {
        for (int t = 0; t < steps; t++) {
          float[] out = new float[vocab];
          s.step(new int[] {q}, new int[] {token(q, t)}, 1, out);
          alone[q][t] = out;
        }
      }
    }
    try (CpuBackend b = backend(m, RopeLayout.HALF_SPLIT, 3);
        DecodeSession s = b.open(PROMPT, seqs, steps)) {
      // Varying batches: step t runs sequences {t..seqs-1} in reverse order, then the rest one
      // by one, and sequence 1 is released after step 1.
      for (int t = 0; t < steps; t++) {
        java.util.List<Integer> live = new java.util.ArrayList<>();
        for (int q = seqs - 1; q >= 0; q--) {
          if (!(q == 1 && t > 1)) {
            live.add(q);
          }
        }
        int split = Math.min(t + 1, live.size());
        for (java.util.List<Integer> part :
            java.util.List.of(live.subList(0, split), live.subList(split, live.size()))) {
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
            assertArrayEquals(alone[ids[j]][t],
                java.util.Arrays.copyOfRange(out, j * vocab, (j + 1) * vocab),
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
    return (seq * 13 + step * 7 + 3) % 80;
  }

  @Test
  void refusesSessionsOverTheMemoryBudgetWithTheNumbers() {
    TinyModel m = new TinyModel(TinyModel.config(false, false), DType.F32, 1);
    try (CpuBackend b = new CpuBackend("tiny", m.config, m.tensors, RopeLayout.HALF_SPLIT, 1,
        200_000)) {
      long need = b.sessionBytes(PROMPT.length, 64, 100);
      assertTrue(need > 200_000);
      BadInputException e = assertThrows(BadInputException.class, () -> b.open(PROMPT, 64, 100));
      assertTrue(e.getMessage().contains(String.format("%,d", need)), e.getMessage());
      assertTrue(e.getMessage().contains("200,000"), e.getMessage());
      // The KV cache alone: prompt once + 64 tails of min(100, 128 - 7) = 100 positions.
      long kv = (PROMPT.length + 64L * 100) * m.config.kvBytesPerToken();
      assertTrue(need >= kv && need < kv + 200_000, "need " + need + " kv " + kv);
      b.open(PROMPT, 1, 1).close();
    }
  }

  @Test
  void refusesPromptsLongerThanTheContextAndBadTokens() {
    TinyModel m = new TinyModel(TinyModel.config(false, false), DType.F32, 1);
    try (CpuBackend b = backend(m, RopeLayout.HALF_SPLIT, 1)) {
      BadInputException e = assertThrows(BadInputException.class, () -> b.open(new int[129], 1, 1));
      assertTrue(e.getMessage().contains("129") && e.getMessage().contains("128"), e.getMessage());
      assertThrows(BadInputException.class, () -> b.open(new int[0], 1, 1));
      assertThrows(BadInputException.class, () -> b.open(new int[] {80}, 1, 1));
      // A prompt filling the context leaves no room: stepping is refused, not silently wrong.
      DecodeSession s = b.open(new int[128], 1, 5);
      assertThrows(IllegalStateException.class,
          () -> s.step(new int[] {0}, new int[] {1}, 1, new float[80]));
    }
  }

  @Test
  void missingTensorIsNamed() {
    TinyModel m = new TinyModel(TinyModel.config(false, false), DType.F32, 1);
    Map<String, TensorData> t = new HashMap<>(m.tensors);
    t.remove("model.layers.1.mlp.up_proj.weight");
    BadInputException e = assertThrows(BadInputException.class,
        () -> new CpuBackend("x", m.config, t, RopeLayout.HALF_SPLIT, 1, BUDGET));
    assertTrue(e.getMessage().contains("model.layers.1.mlp.up_proj.weight"), e.getMessage());
  }

  private static int[] append(int[] a, int t) {
    int[] r = java.util.Arrays.copyOf(a, a.length + 1);
    r[a.length] = t;
    return r;
  }
}
