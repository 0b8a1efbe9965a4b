package quasiroll.worker.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.worker.load.ModelFiles;
import quasiroll.worker.model.fixture.GgufFixtureWriter;
import quasiroll.worker.model.fixture.HfFixtureWriter;
import quasiroll.worker.model.fixture.TinyModel;
import quasiroll.worker.model.fixture.TinyModelSpec;

/** The same fixture weights written as HF and as GGUF load to the same model. */
class HfGgufEquivalenceTest {
  @TempDir Path tmp;

  private static final String TEXT = "The fox said 1234 times: don't! 東京 🙂<|eot_id|>";

  @Test
  void llamaF32IsIdenticalInBothFormatsAndMatchesTheGeneratedWeights() throws Exception {
    TinyModel m = TinyModel.generate(TinyModelSpec.llamaGqa(7));
    try (LoadedModel hf = ModelFiles.open(HfFixtureWriter.write(m, tmp.resolve("hf"), DType.F32));
        LoadedModel gg =
            ModelFiles.open(GgufFixtureWriter.write(m, tmp.resolve("m.gguf"), DType.F32))) {
      assertEquals(m.config(), hf.config());
      assertEquals(m.config(), gg.config());
      assertEquals("hf-safetensors", hf.format());
      assertEquals("gguf", gg.format());
      assertTrue(hf.tensors().containsKey(ModelTensors.LM_HEAD));
      for (Map.Entry<String, float[]> e : m.weights().entrySet()) {
        assertArrayEquals(e.getValue(), DTypeCodec.toFloats(hf.tensor(e.getKey())), e.getKey());
        TensorData g = gg.tensor(e.getKey());
        assertArrayEquals(hf.tensor(e.getKey()).shape(), g.shape(), e.getKey());
        assertArrayEquals(e.getValue(), DTypeCodec.toFloats(g), e.getKey());
      }
      assertArrayEquals(hf.tokenizer().encode(TEXT), gg.tokenizer().encode(TEXT));
      // A Llama 3 prompt starts with BOS in both formats (HF: add_bos_token and the
      // post-processor template; GGUF: tokenizer.ggml.add_bos_token).
      int[] prompt = hf.tokenizer().encodePrompt(TEXT);
      assertEquals(hf.tokenizer().bosId(), prompt[0]);
      assertEquals(hf.tokenizer().encode(TEXT).length + 1, prompt.length);
      assertArrayEquals(prompt, gg.tokenizer().encodePrompt(TEXT));
      assertArrayEquals(hf.ropeInverseFrequencies(), gg.ropeInverseFrequencies());
      assertEquals(hf.parameterCount(), gg.parameterCount());
    }
  }

  @Test
  void qwen2TiedWithBiasesInBothFormats() throws Exception {
    TinyModel m = TinyModel.generate(TinyModelSpec.qwen2Tied(8));
    try (LoadedModel hf =
            ModelFiles.open(HfFixtureWriter.write(m, tmp.resolve("hf"), DType.F32, 3));
        LoadedModel gg =
            ModelFiles.open(GgufFixtureWriter.write(m, tmp.resolve("q.gguf"), DType.F32))) {
      assertEquals(m.config(), hf.config());
      assertEquals(m.config(), gg.config());
      assertTrue(hf.config().qkvBias());
      assertTrue(hf.config().tiedEmbeddings());
      assertFalse(gg.tensors().containsKey(ModelTensors.LM_HEAD));
      assertEquals(gg.tensor(ModelTensors.EMBED), gg.lmHead());
      for (Map.Entry<String, float[]> e : m.weights().entrySet()) {
        assertArrayEquals(e.getValue(), DTypeCodec.toFloats(hf.tensor(e.getKey())), e.getKey());
        assertArrayEquals(e.getValue(), DTypeCodec.toFloats(gg.tensor(e.getKey())), e.getKey());
      }
      assertArrayEquals(hf.tokenizer().encode(TEXT), gg.tokenizer().encode(TEXT));
      assertFalse(hf.tokenizer().spec().addBos());
      assertFalse(gg.tokenizer().spec().addBos());
      assertArrayEquals(hf.tokenizer().encode(TEXT), hf.tokenizer().encodePrompt(TEXT));
      assertArrayEquals(gg.tokenizer().encode(TEXT), gg.tokenizer().encodePrompt(TEXT));
    }
  }

  @Test
  void quantizedGgufIsWithinQuantizationErrorOfTheWeights() throws Exception {
    TinyModel m = TinyModel.generate(TinyModelSpec.llamaGqa(9));
    try (LoadedModel q8 =
            ModelFiles.open(GgufFixtureWriter.write(m, tmp.resolve("q8.gguf"), DType.Q8_0));
        LoadedModel q4 =
            ModelFiles.open(GgufFixtureWriter.write(m, tmp.resolve("q4.gguf"), DType.Q4_0))) {
      for (Map.Entry<String, float[]> e : m.weights().entrySet()) {
        float[] w = e.getValue();
        TensorData t8 = q8.tensor(e.getKey());
        if (m.shape(e.getKey()).length == 1) {
          assertEquals(DType.F32, t8.dtype(), "1-D tensors stay F32 as llama.cpp writes them");
          assertArrayEquals(w, DTypeCodec.toFloats(t8));
          continue;
        }
        assertEquals(DType.Q8_0, t8.dtype());
        assertEquals(DType.Q4_0, q4.tensor(e.getKey()).dtype());
        assertWithinBlockError(w, DTypeCodec.toFloats(t8), 127, e.getKey());
        assertWithinBlockError(w, DTypeCodec.toFloats(q4.tensor(e.getKey())), 8, e.getKey());
      }
    }
  }

  /**
   * Per block of 32, a round-to-nearest quantizer with scale d = amax/levels errs by at most d/2
   * (plus the f16 rounding of d, at most 2^-11 relative, times the level count).
   */
  private static void assertWithinBlockError(float[] w, float[] q, int levels, String name) {
    for (int b = 0; b < w.length / 32; b++) {
      float amax = 0;
      for (int j = 0; j < 32; j++) {
        amax = Math.max(amax, Math.abs(w[b * 32 + j]));
      }
      float d = amax / levels;
      float bound = d / 2 + amax * 0x1p-10f + 1e-7f;
      if (levels == 8) {
        bound = d + amax * 0x1p-10f + 1e-7f; // Q4_0 clamps the most positive level to 7
      }
      for (int j = 0; j < 32; j++) {
        float err = Math.abs(w[b * 32 + j] - q[b * 32 + j]);
        assertTrue(
            err <= bound, name + " element " + (b * 32 + j) + " error " + err + " > " + bound);
      }
    }
  }

  @Test
  void halfPrecisionSafetensorsRoundTheWeightsOnce() throws Exception {
    TinyModel m = TinyModel.generate(TinyModelSpec.qwen2Tied(10));
    for (DType dt : new DType[] {DType.F16, DType.BF16}) {
      try (LoadedModel hf = ModelFiles.open(HfFixtureWriter.write(m, tmp.resolve(dt.name()), dt))) {
        for (Map.Entry<String, float[]> e : m.weights().entrySet()) {
          TensorData t = hf.tensor(e.getKey());
          assertEquals(dt, t.dtype());
          float[] got = DTypeCodec.toFloats(t);
          float[] w = e.getValue();
          for (int i = 0; i < w.length; i++) {
            float expect =
                dt == DType.F16
                    ? HalfFloats.f16ToFloat(HalfFloats.floatToF16(w[i]))
                    : HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(w[i]));
            assertEquals(expect, got[i], e.getKey());
            float rel = dt == DType.F16 ? 0x1p-11f : 0x1p-8f;
            assertTrue(Math.abs(got[i] - w[i]) <= Math.abs(w[i]) * rel + 1e-7f);
          }
        }
      }
    }
  }

  @Test
  void llama3RopeScalingFromConfigJsonEqualsGgufRopeFreqsTensor() throws Exception {
    TinyModel m = TinyModel.generate(TinyModelSpec.llamaRopeScaled(11));
    try (LoadedModel hf = ModelFiles.open(HfFixtureWriter.write(m, tmp.resolve("hf"), DType.F32));
        LoadedModel gg =
            ModelFiles.open(GgufFixtureWriter.write(m, tmp.resolve("r.gguf"), DType.F32))) {
      assertEquals(m.config().ropeScaling(), hf.config().ropeScaling());
      assertNull(gg.config().ropeScaling(), "GGUF carries the scaling as rope_freqs, not metadata");
      double[] a = hf.ropeInverseFrequencies();
      double[] b = gg.ropeInverseFrequencies();
      double[] unscaled = RopeFrequencies.inverse(gg.config());
      boolean anyScaled = false;
      for (int i = 0; i < a.length; i++) {
        assertEquals(a[i], b[i], a[i] * 1e-6, "frequency " + i); // rope_freqs is f32
        anyScaled |= Math.abs(a[i] - unscaled[i]) > unscaled[i] * 1e-3;
      }
      assertTrue(anyScaled, "the fixture's scaling must change some frequencies");
    }
  }
}
