package quasiroll.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Map;
import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.common.sampler.CouplingKind;
import quasiroll.common.sampler.SampleNoise;
import quasiroll.common.sampler.SamplerSpec;

/**
 * Thread CPU time per token position of a sample's noise (code() then advance()) for each coupling,
 * with iid as the baseline measured in the same run. CPU time rather than wall time, so the numbers
 * stay meaningful on a shared, oversubscribed box (where {@link TokenNoiseBench} is noisy). Group k
 * = 256, 4096 positions per sample (Sobol' padding included), every sample of the group. Run:
 * {@code java -cp "bench/target/quasiroll-bench.jar:bench/target/lib/*"
 * quasiroll.bench.TokenNoiseCpuTime}
 */
public final class TokenNoiseCpuTime {
  private static final String[] SAMPLERS = {
    "iid", "antithetic", "sobol/lms", "sobol/owen", "sobol/xor", "rank1", "lhs"
  };

  private TokenNoiseCpuTime() {}

  public static void main(String[] args) {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    int k = 256;
    int positions = 4096;
    long sink = 0;
    for (int round = 0; round < 3; round++) { // rounds 0-1 warm up the JIT; round 2 is reported
      double baseline = 0;
      for (String name : SAMPLERS) {
        String[] parts = name.split("/");
        SamplerSpec spec =
            new SamplerSpec(
                CouplingKind.parse(parts[0]),
                parts.length > 1 ? Map.of("scramble", parts[1]) : Map.of());
        CouplingNoiseFactory.INSTANCE.open(
            spec, 42, 0, k); // builds the rank-1 vector outside the timing
        long t0 = mx.getCurrentThreadCpuTime();
        for (int i = 0; i < k; i++) {
          SampleNoise noise = CouplingNoiseFactory.INSTANCE.open(spec, 42 + round, i, k);
          for (int t = 0; t < positions; t++) {
            long c = noise.code();
            sink += c;
            noise.advance(c >>> 32, 1);
          }
        }
        double ns = (mx.getCurrentThreadCpuTime() - t0) / ((double) k * positions);
        if (name.equals("iid")) {
          baseline = ns;
        }
        if (round == 2) {
          System.out.printf("%-11s %7.1f ns/position  %5.2fx iid%n", name, ns, ns / baseline);
        }
      }
    }
    System.out.println("(checksum " + sink + ")");
  }
}
