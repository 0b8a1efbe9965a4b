package quasiroll.bench.gpu;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import quasiroll.common.sampler.CoupledTokenSampler;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.VocabOrder;
import quasiroll.worker.load.ModelFiles;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.model.ModelConfig;
import quasiroll.worker.model.RopeFrequencies;
import quasiroll.worker.model.TensorData;
import quasiroll.worker.runtime.DecodeSession;
import quasiroll.worker.runtime.DeviceChoices;
import quasiroll.worker.runtime.DeviceSampling;
import quasiroll.worker.runtime.ModelBackend;
import quasiroll.worker.runtime.cpu.CpuBackend;
import quasiroll.worker.runtime.cuda.CudaBackend;
import quasiroll.worker.runtime.cuda.CudaSelfCheck;

/**
 * The quasiroll side of deploy/gpu-check.sh (run on a GPU machine; no Maven there, just a JRE and
 * the jars):
 *
 * <pre>
 *   GpuCheck selftest DEVICE                      kernel checks, sampler vs CPU, tiny model
 *   GpuCheck parity DEVICE MODEL_DIR OUT_DIR STEPS PROMPTS...   (PROMPTS: "1,2,3" token ids)
 *   GpuCheck throughput DEVICE MODEL_DIR NEW_TOKENS PROMPT BATCHES  (BATCHES: "1,16,64,256")
 * </pre>
 *
 * parity: GPU and CPU backends, prompt + greedy STEPS tokens per prompt at batch 1; prints the
 * largest logit difference and whether the greedy tokens agree, and writes the GPU's tokens and
 * logits (little-endian f32 rows) to OUT_DIR for the transformers comparison. throughput: one
 * shared prompt, NEW_TOKENS sampled tokens (T = 1, iid codes, GPU sampler) per sequence at each
 * batch size; tokens/s includes the prefill, as transformers' generate timing does.
 */
public final class GpuCheck {
  private GpuCheck() {}

  public static void main(String[] args) throws IOException {
    PrintStream out = System.out;
    int device = Integer.parseInt(args[1]);
    switch (args[0]) {
      case "selftest" -> {
        int failures =
            CudaSelfCheck.run(device, new CoupledTokenSampler(), GpuCheck::cpuBackend, out);
        System.exit(failures == 0 ? 0 : 1);
      }
      case "parity" ->
          parity(
              device,
              Path.of(args[2]),
              Path.of(args[3]),
              Integer.parseInt(args[4]),
              Arrays.copyOfRange(args, 5, args.length),
              out);
      case "throughput" ->
          throughput(
              device,
              Path.of(args[2]),
              Integer.parseInt(args[3]),
              ids(args[4]),
              Arrays.stream(args[5].split(",")).mapToInt(Integer::parseInt).toArray(),
              out);
      default -> throw new IllegalArgumentException("unknown command " + args[0]);
    }
  }

  private static ModelBackend cpuBackend(String id, ModelConfig c, Map<String, TensorData> t) {
    return new CpuBackend(
        id,
        c,
        t,
        RopeFrequencies.inverse(c),
        Runtime.getRuntime().availableProcessors(),
        32L << 30);
  }

  private static int[] ids(String csv) {
    return Arrays.stream(csv.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
  }

  private static void parity(
      int device, Path model, Path outDir, int steps, String[] prompts, PrintStream out)
      throws IOException {
    Files.createDirectories(outDir);
    try (LoadedModel m = ModelFiles.open(model)) {
      ModelConfig c = m.config();
      long t0 = System.nanoTime();
      List<float[][]> gpuRows = new ArrayList<>();
      List<int[]> gpuTokens = new ArrayList<>();
      try (CudaBackend gpu = CudaBackend.of("check", m, device)) {
        out.printf(
            "GPU backend loaded on %s in %.1f s%n",
            gpu.deviceDescription(), (System.nanoTime() - t0) / 1e9);
        for (String p : prompts) {
          int[] tokens = new int[steps];
          gpuRows.add(greedy(gpu, ids(p), steps, tokens));
          gpuTokens.add(tokens);
        }
      }
      for (int i = 0; i < prompts.length; i++) {
        Path f = outDir.resolve("gpu_" + i + ".f32");
        try (OutputStream os = Files.newOutputStream(f)) {
          float[][] rows = gpuRows.get(i);
          ByteBuffer b =
              ByteBuffer.allocate(rows.length * c.vocabSize() * 4).order(ByteOrder.LITTLE_ENDIAN);
          for (float[] r : rows) {
            for (float v : r) {
              b.putFloat(v);
            }
          }
          os.write(b.array());
        }
        Files.writeString(
            outDir.resolve("gpu_" + i + ".tokens"),
            Arrays.toString(gpuTokens.get(i)).replaceAll("[\\[\\] ]", ""));
      }
      out.println("GPU logits written to " + outDir);
      t0 = System.nanoTime();
      try (ModelBackend cpu =
          CpuBackend.of("check", m, Runtime.getRuntime().availableProcessors(), 32L << 30)) {
        for (int i = 0; i < prompts.length; i++) {
          int[] tokens = new int[steps];
          float[][] cpuRows = greedy(cpu, ids(prompts[i]), steps, tokens);
          float[][] g = gpuRows.get(i);
          double worstAbs = 0;
          double scale = 0;
          int firstDiverge = -1;
          for (int t = 0; t < steps; t++) {
            if (firstDiverge < 0 && tokens[t] != gpuTokens.get(i)[t]) {
              firstDiverge = t;
            }
          }
          int rows = firstDiverge < 0 ? g.length : firstDiverge + 1;
          for (int r = 0; r < rows; r++) {
            for (int j = 0; j < c.vocabSize(); j++) {
              worstAbs = Math.max(worstAbs, Math.abs(g[r][j] - cpuRows[r][j]));
              scale = Math.max(scale, Math.abs(cpuRows[r][j]));
            }
          }
          out.printf(
              "PARITY gpu-vs-cpu prompt %d: max|dlogit| = %.3e (max|logit| %.2f, relative %.2e)"
                  + " over %d rows; greedy tokens %s%n",
              i,
              worstAbs,
              scale,
              worstAbs / scale,
              rows,
              firstDiverge < 0
                  ? "IDENTICAL for " + steps + " steps"
                  : "DIVERGE at step " + firstDiverge);
        }
      }
      out.printf("CPU reference took %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }
  }

  /** Prompt logits then {@code steps} greedy tokens (host argmax of the returned logits). */
  private static float[][] greedy(ModelBackend b, int[] prompt, int steps, int[] tokens) {
    int v = b.info().vocabSize();
    float[][] rows = new float[steps + 1][];
    try (DecodeSession s = b.open(prompt, 1, steps)) {
      rows[0] = s.promptLogits();
      float[] logits = new float[v];
      for (int t = 0; t < steps; t++) {
        tokens[t] = argmax(rows[t]);
        s.step(new int[] {0}, new int[] {tokens[t]}, 1, logits);
        rows[t + 1] = logits.clone();
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

  private static void throughput(
      int device, Path model, int newTokens, int[] prompt, int[] batches, PrintStream out) {
    try (LoadedModel m = ModelFiles.open(model);
        CudaBackend gpu = CudaBackend.of("check", m, device)) {
      DecodeParams params =
          new DecodeParams(1.0, 0, 1.0, 0.0, VocabOrder.ID, newTokens, List.of(), List.of());
      decode(gpu, prompt, 4, 8, params); // warm-up: JIT, first launches
      for (int batch : batches) {
        long t0 = System.nanoTime();
        int generated = decode(gpu, prompt, batch, newTokens, params);
        double sec = (System.nanoTime() - t0) / 1e9;
        out.printf(
            "THROUGHPUT quasiroll-gpu batch %d: %d tokens in %.3f s = %.1f tokens/s%n",
            batch, generated, sec, generated / sec);
      }
    }
  }

  /** Decodes {@code batch} sequences for {@code newTokens} tokens with the GPU sampler. */
  private static int decode(
      CudaBackend gpu, int[] prompt, int batch, int newTokens, DecodeParams p) {
    SplittableRandom rnd = new SplittableRandom(batch);
    try (DecodeSession s = gpu.open(prompt, batch, newTokens)) {
      DeviceSampling ds = (DeviceSampling) s;
      int[] ids = new int[batch];
      for (int j = 0; j < batch; j++) {
        ids[j] = j;
      }
      long[] codes = new long[batch];
      DeviceChoices choice = DeviceChoices.allocate(batch);
      for (int j = 0; j < batch; j++) {
        codes[j] = rnd.nextLong();
      }
      ds.sample(batch, codes, p, choice);
      for (int t = 1; t < newTokens; t++) {
        ds.stepOnDevice(ids, choice.tokens(), batch);
        for (int j = 0; j < batch; j++) {
          codes[j] = rnd.nextLong();
        }
        ds.sample(batch, codes, p, choice);
      }
      return batch * newTokens;
    }
  }
}
