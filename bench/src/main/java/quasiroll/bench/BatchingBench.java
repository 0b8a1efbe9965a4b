package quasiroll.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import quasiroll.common.config.QuasirollConfig;
import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SamplerSpec;
import quasiroll.common.task.TaskPrompt;
import quasiroll.common.task.registry.TaskGenerators;
import quasiroll.v1.SampleResult;
import quasiroll.worker.engine.ContinuousDecoder;
import quasiroll.worker.engine.ResolvedShard;
import quasiroll.worker.engine.ShardDecoder;
import quasiroll.worker.load.BackendLoader;
import quasiroll.worker.load.WorkerSettings;
import quasiroll.worker.runtime.ModelHandle;

/**
 * One worker's samples/s on many prompts with modest k, the common rollout shape: the demo model
 * (models/demo) on P prompts (half countdown, half arithmetic, the demo's generators) x k samples,
 * one shard per prompt, as the coordinator cuts them. Baseline, in the same run: the
 * shard-at-a-time loop ({@link ShardDecoder}, what a worker with one decode slot ran before
 * continuous batching). New: {@link ContinuousDecoder} with every shard handed over at once. Both
 * decode on the same loaded model with the same threads; the bench checks that both produce
 * byte-identical samples, then prints samples/s, tokens/s and the ratio.
 *
 * <p>Usage: {@code deploy/bench/batching.sh [--model models/demo] [--prompts 256] [--k 4]
 * [--max-new-tokens 24] [--sampler lattice] [--rows 256] [--rounds 2]}
 */
public final class BatchingBench {
  private BatchingBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> o = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    String model = o.getOrDefault("model", "models/demo");
    int prompts = Integer.parseInt(o.getOrDefault("prompts", "256"));
    int k = Integer.parseInt(o.getOrDefault("k", "4"));
    int maxNew = Integer.parseInt(o.getOrDefault("max-new-tokens", "24"));
    String sampler = o.getOrDefault("sampler", "lattice");
    int rows =
        Integer.parseInt(
            o.getOrDefault("rows", Integer.toString(ContinuousDecoder.DEFAULT_MAX_ROWS)));
    int rounds = Integer.parseInt(o.getOrDefault("rounds", "2"));
    if (!Files.exists(Path.of(model))) {
      throw new IllegalArgumentException("model " + model + " not found (run from the checkout)");
    }
    List<TaskPrompt> ps = new ArrayList<>();
    ps.addAll(
        TaskGenerators.forName("countdown", Map.of("count", "3", "max", "20"))
            .generate(2, prompts / 2));
    ps.addAll(TaskGenerators.forName("arithmetic", Map.of()).generate(2, prompts - prompts / 2));
    DecodeParams decode = DecodeParams.DEFAULT.withMaxNewTokens(maxNew);
    List<ResolvedShard> shards = new ArrayList<>();
    for (TaskPrompt p : ps) {
      shards.add(
          new ResolvedShard(
              "bench",
              p.id(),
              p.text(),
              new int[0],
              k,
              IntStream.range(0, k).toArray(),
              SamplerSpec.of(sampler),
              decode,
              20261126));
    }
    ModelHandle m =
        BackendLoader.load(model, "cpu", WorkerSettings.from(QuasirollConfig.load(null)));
    System.out.printf(
        Locale.ROOT,
        "machine: %s, %d cores, load average %s%n",
        Machine.cpuName(),
        Runtime.getRuntime().availableProcessors(),
        Machine.loadAverage());
    System.out.printf(
        Locale.ROOT,
        "job: %s, %d prompts x k=%d (one shard per prompt), max %d new tokens,"
            + " sampler %s, batch rows %d%n",
        model,
        prompts,
        k,
        maxNew,
        sampler,
        rows);
    double[] base = new double[rounds];
    double[] cont = new double[rounds];
    double[] baseCpu = new double[rounds];
    double[] contCpu = new double[rounds];
    long tokens = 0;
    Map<String, SampleResult> reference = null;
    try (ShardDecoder serial =
            new ShardDecoder(m.backend(), m.tokenizer(), CouplingNoiseFactory.INSTANCE, 1);
        ContinuousDecoder batched =
            new ContinuousDecoder(
                m.backend(),
                m.tokenizer(),
                CouplingNoiseFactory.INSTANCE,
                rows,
                ContinuousDecoder.DEFAULT_MAX_PREFILL_TOKENS)) {
      // Warm-up (JIT) on a slice of the job with both loops.
      runSerial(serial, shards.subList(0, Math.min(32, shards.size())));
      runBatched(batched, shards.subList(0, Math.min(32, shards.size())));
      for (int r = 0; r < rounds; r++) {
        Map<String, SampleResult> a = new ConcurrentHashMap<>();
        long c0 = processCpuNanos();
        long t0 = System.nanoTime();
        a.putAll(runSerial(serial, shards));
        base[r] = (System.nanoTime() - t0) / 1e9;
        long c1 = processCpuNanos();
        long t1 = System.nanoTime();
        Map<String, SampleResult> b = runBatched(batched, shards);
        cont[r] = (System.nanoTime() - t1) / 1e9;
        long c2 = processCpuNanos();
        baseCpu[r] = (c1 - c0) / 1e9;
        contCpu[r] = (c2 - c1) / 1e9;
        if (!a.equals(b)) {
          throw new IllegalStateException("continuous batching changed a sample's bytes");
        }
        reference = a;
        System.out.printf(
            Locale.ROOT,
            "  round %d: shard-at-a-time %.2f s (%.2f CPU-s), continuous %.2f s (%.2f CPU-s)%n",
            r + 1,
            base[r],
            baseCpu[r],
            cont[r],
            contCpu[r]);
      }
    } finally {
      m.backend().close();
    }
    for (SampleResult s : reference.values()) {
      tokens += s.getTokenIdsCount();
    }
    int samples = prompts * k;
    double b = median(base);
    double c = median(cont);
    System.out.printf(
        Locale.ROOT,
        "%-34s %12s %12s %8s%n",
        "loop (median of " + rounds + ")",
        "samples/s",
        "tokens/s",
        "ratio");
    System.out.printf(
        Locale.ROOT,
        "%-34s %12.0f %12.0f %8s%n",
        "shard at a time (baseline)",
        samples / b,
        tokens / b,
        "1.00x");
    System.out.printf(
        Locale.ROOT,
        "%-34s %12.0f %12.0f %7.2fx%n",
        "continuous batching",
        samples / c,
        tokens / c,
        b / c);
    double bc = median(baseCpu);
    double cc = median(contCpu);
    System.out.printf(
        Locale.ROOT,
        "process CPU (all threads, helpers' spin-waits included; median): shard at a time %.2f"
            + " CPU-s, continuous %.2f CPU-s, ratio %.2fx (%.0f vs %.0f samples per CPU-s)%n",
        bc,
        cc,
        bc / cc,
        samples / bc,
        samples / cc);
    System.out.printf(
        Locale.ROOT,
        "samples byte-identical between the two loops: yes (%d samples, %d tokens, digest %s)%n",
        samples,
        tokens,
        digest(reference));
    System.out.printf(Locale.ROOT, "load average after: %s%n", Machine.loadAverage());
  }

  private static Map<String, SampleResult> runSerial(ShardDecoder d, List<ResolvedShard> shards) {
    Map<String, SampleResult> out = new HashMap<>();
    for (ResolvedShard s : shards) {
      d.run(s, r -> out.put(r.getPromptId() + "/" + r.getIndex(), r), () -> false);
    }
    return out;
  }

  private static Map<String, SampleResult> runBatched(
      ContinuousDecoder d, List<ResolvedShard> shards) {
    Map<String, SampleResult> out = new ConcurrentHashMap<>();
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (ResolvedShard s : shards) {
      all.add(d.submit(s, r -> out.put(r.getPromptId() + "/" + r.getIndex(), r), () -> false));
    }
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
    return out;
  }

  /** SHA-256 over every sample's bytes in key order: equal digests, equal samples across builds. */
  private static String digest(Map<String, SampleResult> samples) throws Exception {
    java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
    for (String key : new java.util.TreeSet<>(samples.keySet())) {
      md.update(key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      md.update(samples.get(key).toByteArray());
    }
    return java.util.HexFormat.of().formatHex(md.digest(), 0, 8);
  }

  /** CPU time of this process (all threads), from the JVM's operating-system bean. */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }
}
