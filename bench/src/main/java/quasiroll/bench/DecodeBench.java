package quasiroll.bench;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.args.CacheType;
import de.kherud.llama.args.LogFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import quasiroll.worker.load.ModelFiles;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.model.fixture.GgufFixtureWriter;
import quasiroll.worker.model.fixture.TinyModel;
import quasiroll.worker.model.fixture.TinyModelSpec;
import quasiroll.worker.runtime.DecodeSession;
import quasiroll.worker.runtime.cpu.CpuBackend;

/**
 * Decode throughput of quasiroll's CPU backend against llama.cpp (de.kherud:llama) in the same
 * process, on the same generated GGUF (a ~100M-parameter random-weight Llama), with the same thread
 * count: single-stream tokens/s of both, and quasiroll's aggregate tokens/s when B sequences
 * continue one shared prompt. Each measurement is repeated {@code --rounds} times, alternating
 * engines (the machine may be shared), and the median is reported.
 *
 * <p>Usage: {@code deploy/bench/decode.sh [--dtype F32|F16|BF16|Q8_0|Q4_0|Q4_K|Q6_K] [--threads N]
 * [--tokens T] [--batches 1,4,16,64] [--prompt-tokens P] [--rounds R] [--layers L] [--cache DIR]}
 */
public final class DecodeBench {
  private DecodeBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> o = options(args);
    DType dtype = DType.valueOf(o.getOrDefault("dtype", "F32"));
    int threads =
        Integer.parseInt(
            o.getOrDefault(
                "threads", Integer.toString(Runtime.getRuntime().availableProcessors())));
    int tokens = Integer.parseInt(o.getOrDefault("tokens", "32"));
    int promptTokens = Integer.parseInt(o.getOrDefault("prompt-tokens", "32"));
    int rounds = Integer.parseInt(o.getOrDefault("rounds", "3"));
    int layers = Integer.parseInt(o.getOrDefault("layers", "16"));
    int[] batches =
        Arrays.stream(o.getOrDefault("batches", "1,4,16,64").split(","))
            .mapToInt(Integer::parseInt)
            .toArray();
    Path cache = Path.of(o.getOrDefault("cache", "target/bench-models"));

    // hidden 768, 12 heads of 64 (GQA: 4 KV heads), SwiGLU 2048: 6.3M weights a layer, so 16
    // layers + embeddings ~ 101M parameters.
    TinyModelSpec spec =
        new TinyModelSpec(
            "llama", 768, 2048, layers, 12, 4, 64, 1024, 500000.0, null, false, false, 200, 42);
    Files.createDirectories(cache);
    Path gguf = cache.resolve("bench-llama-L" + layers + "-" + dtype + ".gguf");
    if (!Files.exists(gguf)) {
      System.out.println("generating " + gguf + " ...");
      GgufFixtureWriter.write(TinyModel.generate(spec), gguf, dtype);
    }
    LlamaModel.setLogger(LogFormat.TEXT, (level, msg) -> {});
    try (LoadedModel model = ModelFiles.open(gguf);
        CpuBackend ours = CpuBackend.of("bench", model, threads, 16L << 30);
        LlamaModel llama =
            new LlamaModel(
                new ModelParameters()
                    .setModel(gguf.toString())
                    .setCtxSize(promptTokens + tokens + 16)
                    .setThreads(threads)
                    .setThreadsBatch(threads)
                    .setCacheTypeK(CacheType.F32)
                    .setCacheTypeV(CacheType.F32))) {
      int vocab = model.config().vocabSize();
      int[] prompt = new int[promptTokens];
      prompt[0] = model.tokenizer().bosId();
      for (int i = 1; i < promptTokens; i++) {
        prompt[i] = (i * 7919) % 256; // byte tokens; the same ids for both engines
      }
      String promptText = model.tokenizer().decode(Arrays.copyOfRange(prompt, 1, promptTokens));
      System.out.printf(
          "model: llama, %d layers, hidden 768, %,d parameters, %s, %,d MB" + " (%s)%n",
          layers, model.parameterCount(), dtype, model.weightBytes() >> 20, gguf);
      System.out.printf(
          "threads %d, prompt %d tokens, %d decode steps, median of %d rounds," + " %s%n",
          threads, promptTokens, tokens, rounds, cpuName());
      // Warm-up: the JIT compiles the kernels only after many calls. Batches of 1 and 2 take
      // different kernels for some types, so both are warmed (and the prefill).
      long warmUntil = System.nanoTime() + 10_000_000_000L;
      for (int w = 0; System.nanoTime() < warmUntil; w++) {
        quasiroll(ours, prompt, 1 + w % 2, 8, vocab);
      }
      llama(llama, promptText, 4);
      int llamaPromptTokens = llama.encode(promptText).length + 1; // + BOS
      List<Double> llamaRates = new ArrayList<>();
      List<Double> singleRates = new ArrayList<>();
      List<Double> llamaCpu = new ArrayList<>();
      List<Double> oursCpu = new ArrayList<>();
      List<Double> llamaPrefill = new ArrayList<>();
      List<Double> oursPrefill = new ArrayList<>();
      for (int r = 0; r < rounds; r++) {
        llamaRates.add(llama(llama, promptText, tokens));
        llamaCpu.add(lastCpuRate);
        llamaPrefill.add(llamaPromptTokens / lastPrefillSeconds);
        singleRates.add(quasiroll(ours, prompt, 1, tokens, vocab));
        oursCpu.add(lastCpuRate);
        oursPrefill.add(promptTokens / lastPrefillSeconds);
      }
      double llamaRate = median(llamaRates);
      double single = median(singleRates);
      System.out.printf(
          "llama.cpp  batch 1: %8.1f tokens/s  (%.1f tokens per CPU-second)%n",
          llamaRate, median(llamaCpu));
      System.out.printf(
          "quasiroll  batch 1: %8.1f tokens/s  (%.1f tokens per CPU-second)"
              + "   = %.2fx llama.cpp wall, %.2fx in CPU time (goal >= 1.0x)%n",
          single, median(oursCpu), single / llamaRate, median(oursCpu) / median(llamaCpu));
      System.out.printf(
          "prefill: llama.cpp %.1f prompt tokens/s (%d tokens), quasiroll %.1f"
              + " (%d tokens) = %.2fx (goal >= 0.8x)%n",
          median(llamaPrefill),
          llamaPromptTokens,
          median(oursPrefill),
          promptTokens,
          median(oursPrefill) / median(llamaPrefill));
      for (int b : batches) {
        if (b == 1) {
          continue;
        }
        List<Double> rates = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
          rates.add(quasiroll(ours, prompt, b, Math.max(4, tokens * 4 / b), vocab));
        }
        double agg = median(rates);
        System.out.printf(
            "quasiroll  batch %d: %8.1f tokens/s aggregate = %.2fx single-stream" + "%s%n",
            b, agg, agg / single, b == 16 ? " (goal >= 4x)" : "");
      }
    }
    // llama.cpp's server thread is not a daemon: end the JVM explicitly.
    System.exit(0);
  }

  /** Aggregate decode tokens/s of b sequences stepping together after one shared prefill. */
  private static double quasiroll(CpuBackend backend, int[] prompt, int b, int steps, int vocab) {
    long p0 = System.nanoTime();
    try (DecodeSession s = backend.open(prompt, b, steps)) {
      lastPrefillSeconds = (System.nanoTime() - p0) / 1e9;
      int[] ids = new int[b];
      int[] next = new int[b];
      float[] logits = new float[b * vocab];
      for (int i = 0; i < b; i++) {
        ids[i] = i;
        next[i] = 10 + i;
      }
      long t0 = System.nanoTime();
      long c0 = processCpuNanos();
      for (int t = 0; t < steps; t++) {
        s.step(ids, next, b, logits);
        for (int i = 0; i < b; i++) {
          next[i] = argmax(logits, i * vocab, vocab);
        }
      }
      lastCpuRate = (double) b * steps / ((processCpuNanos() - c0) / 1e9);
      return (double) b * steps / ((System.nanoTime() - t0) / 1e9);
    }
  }

  /**
   * llama.cpp decode tokens/s: the time from its first generated token to its last (the prompt is
   * evaluated before the first), greedy, end-of-sequence ignored.
   */
  private static double llama(LlamaModel llama, String prompt, int tokens) {
    long first = 0;
    long last = 0;
    long firstCpu = 0;
    int n = 0;
    long start = System.nanoTime();
    for (LlamaOutput out :
        llama.generate(
            new InferenceParameters(prompt)
                .setNPredict(tokens + 1)
                .setTemperature(0f)
                .setIgnoreEos(true)
                .setCachePrompt(false))) {
      last = System.nanoTime();
      if (n++ == 0) {
        first = last;
        firstCpu = processCpuNanos();
        lastPrefillSeconds = (first - start) / 1e9;
      }
    }
    lastCpuRate = (n - 1) / ((processCpuNanos() - firstCpu) / 1e9);
    return (n - 1) / ((last - first) / 1e9);
  }

  /** Set by the last {@link #quasiroll} / {@link #llama} call: decode tokens per CPU-second. */
  private static double lastCpuRate;

  /**
   * Set by the last call: seconds to evaluate the prompt (quasiroll: open(), the prefill;
   * llama.cpp: request to first token, i.e. prefill plus one step).
   */
  private static double lastPrefillSeconds;

  /**
   * CPU time of this whole process (both engines run in it, one at a time): a per-token cost that
   * other load on a shared machine disturbs much less than wall time.
   */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static int argmax(float[] v, int off, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) {
      if (v[off + i] > v[off + best]) {
        best = i;
      }
    }
    return best;
  }

  private static double median(List<Double> v) {
    List<Double> s = new ArrayList<>(v);
    Collections.sort(s);
    return s.get(s.size() / 2);
  }

  private static String cpuName() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim()
              + ", "
              + Runtime.getRuntime().availableProcessors()
              + " cores visible";
        }
      }
    } catch (Exception e) {
      // not Linux: fall through
    }
    return System.getProperty("os.arch");
  }

  private static Map<String, String> options(String[] args) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --name value pairs, got '" + args[i] + "'");
      }
      m.put(args[i].substring(2), args[++i]);
    }
    return m;
  }
}
