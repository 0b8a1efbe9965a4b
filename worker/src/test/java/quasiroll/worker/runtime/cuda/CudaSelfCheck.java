package quasiroll.worker.runtime.cuda;

import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import jcuda.driver.CUdeviceptr;
import quasiroll.common.coupling.PositionedNoise;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.TokenChoice;
import quasiroll.common.sampler.TokenSampler;
import quasiroll.common.sampler.VocabOrder;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.DTypeCodec;
import quasiroll.worker.model.ModelConfig;
import quasiroll.worker.model.RopeFrequencies;
import quasiroll.worker.model.TensorData;
import quasiroll.worker.runtime.DecodeSession;
import quasiroll.worker.runtime.DeviceChoices;
import quasiroll.worker.runtime.ModelBackend;

/**
 * Checks of the CUDA backend that need a GPU (run by deploy/gpu-check.sh on the device machine;
 * unit tests cannot run them): the PTX JIT-loads; the tensor-core matmul against a double-precision
 * host product, and bit-identical rows whatever the batch size; the sampling kernel against the CPU
 * sampler (token, bucket and logprobs compared exactly); and a random tiny model against a
 * reference backend (normally the CPU backend): logits within tolerance, identical greedy tokens,
 * bit-identical results run to run and across batch compositions. Also times the matmul and the
 * sampler, so the numbers in docs/benchmarks.md are measured, not assumed.
 */
public final class CudaSelfCheck {
  private final CudaDevice device;
  private final PrintStream out;
  private int failures;

  private CudaSelfCheck(CudaDevice device, PrintStream out) {
    this.device = device;
    this.out = out;
  }

  /** Runs every check; returns the number of failed checks. */
  public static int run(
      int deviceIndex, TokenSampler cpuSampler, ModelBackendFactory reference, PrintStream out) {
    CudaDevice d = CudaDevice.open(deviceIndex);
    try {
      CudaSelfCheck t = new CudaSelfCheck(d, out);
      out.println("device " + d + ", " + d.multiprocessors() + " SMs");
      t.modulesLoad();
      t.matmul();
      t.sampler(cpuSampler);
      t.tinyModel(deviceIndex, reference);
      out.println(t.failures == 0 ? "SELFTEST PASS" : "SELFTEST FAIL: " + t.failures + " check(s)");
      return t.failures;
    } finally {
      d.close();
    }
  }

  /** Builds the reference backend for the tiny model (e.g. the CPU backend). */
  public interface ModelBackendFactory {
    ModelBackend create(String id, ModelConfig config, Map<String, TensorData> tensors);
  }

  private void check(String name, boolean ok, String detail) {
    out.println((ok ? "  ok   " : "  FAIL ") + name + (detail.isEmpty() ? "" : ": " + detail));
    if (!ok) {
      failures++;
    }
  }

  private void modulesLoad() {
    long t0 = System.nanoTime();
    for (Map.Entry<String, List<String>> e : PtxResources.ENTRIES.entrySet()) {
      for (String entry : e.getValue()) {
        device.function(e.getKey(), entry);
      }
    }
    check(
        "PTX modules load (cuModuleLoadData JIT)",
        true,
        String.format("%.0f ms", (System.nanoTime() - t0) / 1e6));
  }

  // ---------------------------------------------------------------- matmul

  private void matmul() {
    CudaMatmul mm = new CudaMatmul(device);
    SplittableRandom rnd = new SplittableRandom(7);
    int[][] shapes = {{1152, 896}, {896, 4864}, {1000, 64}};
    int maxRows = 200;
    for (DType type : new DType[] {DType.BF16, DType.F16}) {
      for (int[] shape : shapes) {
        int n = shape[0];
        int k = shape[1];
        float[] w = new float[n * k];
        for (int i = 0; i < w.length; i++) {
          w[i] = (float) (rnd.nextGaussian() * 0.05);
        }
        byte[] wBytes = DTypeCodec.encode(type, w);
        float[] wq =
            DTypeCodec.decode(
                type, ByteBuffer.wrap(wBytes).order(java.nio.ByteOrder.LITTLE_ENDIAN), w.length);
        float[] x = new float[maxRows * k];
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) rnd.nextGaussian();
        }
        float[] bias = new float[n];
        for (int i = 0; i < n; i++) {
          bias[i] = (float) rnd.nextGaussian();
        }
        CUdeviceptr wd = device.alloc(wBytes.length);
        device.upload(
            wd, 0, MemorySegment.ofBuffer(RandomModelWeights.direct(wBytes)), wBytes.length);
        CUdeviceptr xd = device.alloc(4L * x.length);
        device.upload(xd, x);
        CUdeviceptr bd = device.alloc(4L * n);
        device.upload(bd, bias);
        CUdeviceptr yd = device.alloc(4L * maxRows * n);
        CUdeviceptr part =
            device.alloc(4L * Math.max(1, MatmulPlan.of(maxRows, n, k).partialFloats()));
        CudaWeights.Matrix m = new CudaWeights.Matrix(wd, type, n, k);
        float[] single = new float[n];
        double worst = 0;
        boolean invariant = true;
        for (int rows : new int[] {1, 7, 16, 33, 64, 200}) {
          mm.run(xd, m, yd, bd, rows, false, part);
          float[] y = new float[rows * n];
          device.download(y, rows * n, yd);
          if (rows == 1) {
            System.arraycopy(y, 0, single, 0, n);
          } else {
            for (int j = 0; j < n; j++) {
              invariant &= Float.floatToRawIntBits(y[j]) == Float.floatToRawIntBits(single[j]);
            }
          }
          for (int r = 0; r < rows; r += Math.max(1, rows / 5)) {
            for (int j = 0; j < n; j += 7) {
              double ref = bias[j];
              double scale = 0;
              for (int i = 0; i < k; i++) {
                double p = (double) x[r * k + i] * wq[j * k + i];
                ref += p;
                scale += Math.abs(p);
              }
              worst = Math.max(worst, Math.abs(y[r * n + j] - ref) / (scale + 1e-30));
            }
          }
        }
        // residual add: y += x W^T (+ bias) on top of the previous result
        float[] before = new float[n];
        device.download(before, n, yd);
        mm.run(xd, m, yd, bd, 1, true, part);
        float[] after = new float[n];
        device.download(after, n, yd);
        double accErr = 0;
        for (int j = 0; j < n; j++) {
          accErr = Math.max(accErr, Math.abs(after[j] - 2 * before[j]) / (Math.abs(before[j]) + 1));
        }
        MatmulPlan plan = MatmulPlan.of(1, n, k);
        // f32 accumulation of k products of hi/lo-split activations: relative to sum |x w|.
        check(
            String.format("matmul %s %dx%d (split-K %d) vs double", type, n, k, plan.splits()),
            worst < 2e-5 && accErr < 1e-5,
            String.format("max error / sum|xw| = %.2e, accumulate error %.2e", worst, accErr));
        check(
            String.format("matmul %s %dx%d row bits independent of batch size", type, n, k),
            invariant,
            "");
        for (CUdeviceptr p : new CUdeviceptr[] {wd, xd, bd, yd, part}) {
          device.free(p);
        }
      }
    }
    timeMatmul(mm);
  }

  /** Decode-shaped products on random weights: weight bandwidth at batch 1, FLOP/s at 256. */
  private void timeMatmul(CudaMatmul mm) {
    int[][] shapes = {{151936, 896}, {9728, 896}, {896, 4864}};
    for (int[] s : shapes) {
      int n = s[0];
      int k = s[1];
      CUdeviceptr wd = device.alloc(2L * n * k);
      CUdeviceptr xd = device.alloc(4L * 256 * k);
      CUdeviceptr yd = device.alloc(4L * 256 * n);
      CUdeviceptr part = device.alloc(4L * Math.max(1, MatmulPlan.of(256, n, k).partialFloats()));
      device.upload(xd, new float[256 * k]);
      CudaWeights.Matrix m = new CudaWeights.Matrix(wd, DType.BF16, n, k);
      StringBuilder line = new StringBuilder();
      for (int rows : new int[] {1, 16, 64, 256}) {
        int reps = 20;
        mm.run(xd, m, yd, null, rows, false, part);
        device.synchronize();
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) {
          mm.run(xd, m, yd, null, rows, false, part);
        }
        device.synchronize();
        double sec = (System.nanoTime() - t0) / 1e9 / reps;
        line.append(
            String.format(
                " | M=%d %.1f us %.0f GB/s %.1f TFLOP/s",
                rows, sec * 1e6, 2.0 * n * k / sec / 1e9, 2.0 * rows * n * k / sec / 1e12));
      }
      out.println("  time matmul bf16 " + n + "x" + k + line);
      for (CUdeviceptr p : new CUdeviceptr[] {wd, xd, yd, part}) {
        device.free(p);
      }
    }
  }

  // ---------------------------------------------------------------- sampler

  /** A noise with a fixed code at position 0 that records the bucket it was advanced with. */
  private static final class FixedNoise extends PositionedNoise {
    final long code;
    long lo = -1;
    long width = -1;

    FixedNoise(long code) {
      super(0);
      this.code = code;
    }

    @Override
    public long code() {
      return code;
    }

    @Override
    public void advance(long lo, long width) {
      this.lo = lo;
      this.width = width;
    }
  }

  private void sampler(TokenSampler cpu) {
    int rows = 64;
    DecodeParams[] params = {
      params(0, 0, 1, 0), params(1, 0, 1, 0), params(0.7, 0, 1, 0), params(1, 40, 1, 0),
      params(1, 0, 0.9, 0), params(1, 0, 1, 0.05), params(0.8, 50, 0.8, 0.02), params(1.3, 1, 1, 0),
    };
    SplittableRandom rnd = new SplittableRandom(11);
    for (int vocab : new int[] {151936, 1000, 5}) {
      float[] logits = new float[rows * vocab];
      for (int r = 0; r < rows; r++) {
        double scale = r % 3 == 0 ? 1 : r % 3 == 1 ? 4 : 12;
        for (int j = 0; j < vocab; j++) {
          // every 8th row is coarsely rounded, so it holds many exactly tied logits
          double v = rnd.nextGaussian() * scale;
          logits[r * vocab + j] = r % 8 == 7 ? Math.round(v * 2) / 2f : (float) v;
        }
      }
      long[] codes = new long[rows];
      for (int r = 0; r < rows; r++) {
        codes[r] = r == 0 ? 0 : r == 1 ? -1L : rnd.nextLong();
      }
      CUdeviceptr ld = device.alloc(4L * logits.length);
      device.upload(ld, logits);
      try (CudaSampler s = new CudaSampler(device, rows)) {
        DeviceChoices got = DeviceChoices.allocate(rows);
        for (DecodeParams p : params) {
          s.sample(ld, vocab, vocab, rows, codes, p, got);
          int mismatches = 0;
          String first = "";
          for (int r = 0; r < rows; r++) {
            FixedNoise noise = new FixedNoise(codes[r]);
            TokenChoice want = cpu.select(logits, r * vocab, vocab, p, noise);
            boolean same =
                want.token() == got.tokens()[r]
                    && noise.lo == got.lo()[r]
                    && noise.width == got.width()[r]
                    && Float.floatToRawIntBits(want.rawLogprob())
                        == Float.floatToRawIntBits(got.rawLogprob()[r])
                    && Float.floatToRawIntBits(want.processedLogprob())
                        == Float.floatToRawIntBits(got.processedLogprob()[r]);
            if (!same) {
              mismatches++;
              if (first.isEmpty()) {
                first =
                    String.format(
                        "; first: row %d cpu (%d,[%d,+%d),%s,%s) gpu (%d,[%d,+%d),%s,%s)",
                        r,
                        want.token(),
                        noise.lo,
                        noise.width,
                        want.rawLogprob(),
                        want.processedLogprob(),
                        got.tokens()[r],
                        got.lo()[r],
                        got.width()[r],
                        got.rawLogprob()[r],
                        got.processedLogprob()[r]);
              }
            }
          }
          check(
              String.format(
                  "sampler V=%d T=%s k=%d p=%s minp=%s == CPU sampler",
                  vocab, p.temperature(), p.topK(), p.topP(), p.minP()),
              mismatches == 0,
              mismatches + "/" + rows + " rows differ" + first);
        }
      }
      if (vocab == 151936) {
        timeSampler(ld, vocab);
      }
      device.free(ld);
    }
  }

  private void timeSampler(CUdeviceptr logits, int vocab) {
    int rows = 64;
    try (CudaSampler s = new CudaSampler(device, 256)) {
      DeviceChoices got = DeviceChoices.allocate(256);
      long[] codes = new long[256];
      for (DecodeParams p :
          new DecodeParams[] {
            params(1, 0, 1, 0), params(0.7, 50, 0.9, 0.05), params(1, 0, 0.9, 0)
          }) {
        for (int n : new int[] {1, 256}) {
          // rows beyond the 64 uploaded read row (r mod 64) via stride 0 for n > 64
          long stride = n > rows ? 0 : vocab;
          s.sample(logits, stride, vocab, n, codes, p, got);
          long t0 = System.nanoTime();
          int reps = 5;
          for (int i = 0; i < reps; i++) {
            s.sample(logits, stride, vocab, n, codes, p, got);
          }
          out.printf(
              "  time sampler V=%d rows=%d T=%s k=%d p=%s: %.2f ms per step%n",
              vocab, n, p.temperature(), p.topK(), p.topP(), (System.nanoTime() - t0) / 1e6 / reps);
        }
      }
    }
  }

  private static DecodeParams params(double t, int k, double p, double minP) {
    return new DecodeParams(t, k, p, minP, VocabOrder.ID, 16, List.of(), List.of());
  }

  // ---------------------------------------------------------------- tiny model

  private void tinyModel(int deviceIndex, ModelBackendFactory reference) {
    ModelConfig c =
        new ModelConfig(
            "qwen2",
            1000,
            128,
            256,
            2,
            4,
            2,
            32,
            256,
            1_000_000.0,
            null,
            1e-6,
            true,
            true,
            1,
            Set.of(2));
    Map<String, TensorData> t = RandomModelWeights.generate(c, DType.BF16, 5);
    int[] prompt = {5, 17, 99, 250, 3, 800, 41};
    int steps = 16;
    int seqs = 3;
    try (CudaBackend gpu = CudaBackend.load("tiny", c, t, RopeFrequencies.inverse(c), deviceIndex);
        ModelBackend ref = reference.create("tiny", c, t)) {
      float[][] gpuRun = greedy(gpu, prompt, seqs, steps);
      float[][] gpuAgain = greedy(gpu, prompt, seqs, steps);
      float[][] refRun = greedy(ref, prompt, seqs, steps);
      boolean sameBits = true;
      for (int i = 0; i < gpuRun.length; i++) {
        sameBits &= java.util.Arrays.equals(gpuRun[i], gpuAgain[i]);
      }
      check("tiny model: same logits bits run to run", sameBits, "");
      double worst = 0;
      boolean sameTokens = true;
      for (int i = 0; i < gpuRun.length; i++) {
        double scale = 0;
        for (float v : refRun[i]) {
          scale = Math.max(scale, Math.abs(v));
        }
        for (int j = 0; j < refRun[i].length; j++) {
          worst = Math.max(worst, Math.abs(gpuRun[i][j] - refRun[i][j]) / scale);
        }
        sameTokens &= argmax(gpuRun[i]) == argmax(refRun[i]);
      }
      check(
          "tiny model: GPU logits vs reference backend, max |diff| / max |logit| < 1e-4",
          worst < 1e-4,
          String.format("%.2e over %d rows", worst, gpuRun.length));
      check(
          "tiny model: greedy tokens identical to reference for " + steps + " steps",
          sameTokens,
          "");
      // batch invariance: sequence 1 stepped alone gives the bits it had inside the batch
      try (DecodeSession s = gpu.open(prompt, seqs, steps)) {
        float[] alone = new float[c.vocabSize()];
        int first = argmax(s.promptLogits());
        s.step(new int[] {1}, new int[] {(first + 1) % c.vocabSize()}, 1, alone);
        check(
            "tiny model: a sequence's logits bits do not depend on its batch",
            java.util.Arrays.equals(alone, gpuRun[2]),
            "");
      }
    }
  }

  /**
   * Prompt logits, then greedy decoding of {@code seqs} sequences (sequence j starts from the
   * (j)-th token after the argmax, so they differ), all rows of logits in order.
   */
  private static float[][] greedy(ModelBackend b, int[] prompt, int seqs, int steps) {
    int v = b.info().vocabSize();
    float[][] rows = new float[1 + seqs * steps][];
    try (DecodeSession s = b.open(prompt, seqs, steps)) {
      rows[0] = s.promptLogits();
      int first = argmax(rows[0]);
      int[] ids = new int[seqs];
      int[] tokens = new int[seqs];
      for (int j = 0; j < seqs; j++) {
        ids[j] = j;
        tokens[j] = (first + j) % v;
      }
      float[] logits = new float[seqs * v];
      for (int t = 0; t < steps; t++) {
        s.step(ids, tokens, seqs, logits);
        for (int j = 0; j < seqs; j++) {
          rows[1 + t * seqs + j] = java.util.Arrays.copyOfRange(logits, j * v, (j + 1) * v);
          tokens[j] = argmax(rows[1 + t * seqs + j]);
        }
      }
    }
    return rows;
  }

  private static int argmax(float[] x) {
    int best = 0;
    for (int i = 1; i < x.length; i++) {
      if (x[i] > x[best]) {
        best = i;
      }
    }
    return best;
  }
}
