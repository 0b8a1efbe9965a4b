package quasiroll.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.common.sampler.CoupledTokenSampler;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SampleNoise;
import quasiroll.common.sampler.SamplerSpec;

/**
 * Cost of selecting ONE token from one logits row (temperature 1, no truncation, id order: the full
 * softmax + quantised CDF + search) under each coupling. Compare with {@link ReadPassBench}, one
 * read of the same row, the memory-bound floor. Run by deploy/bench/sampler.sh, which prints the
 * ratios.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class TokenSelectionBench {
  @Param({"32000", "151936"})
  int vocab;

  @Param({"iid", "lattice", "sobol", "rank1"})
  String coupling;

  private final CoupledTokenSampler sampler = new CoupledTokenSampler();
  private float[][] rows;
  private SampleNoise noise;
  private int next;

  @Setup
  public void setup() {
    rows = LogitRows.make(vocab);
    noise = CouplingNoiseFactory.INSTANCE.open(SamplerSpec.of(coupling), 0x5EED, 3, 64);
  }

  @Benchmark
  public int select() {
    float[] row = rows[next++ & (rows.length - 1)];
    return sampler.select(row, 0, vocab, DecodeParams.DEFAULT, noise).token();
  }

  /** LLM-like logit rows: N(0, 3^2) with a few strong tokens; 4 rows rotate so no row stays hot. */
  static final class LogitRows {
    static float[][] make(int vocab) {
      SplittableRandom r = new SplittableRandom(7);
      float[][] rows = new float[4][vocab];
      for (float[] row : rows) {
        for (int j = 0; j < vocab; j++) {
          row[j] = (float) (r.nextGaussian() * 3);
        }
        for (int s = 0; s < 5; s++) {
          row[r.nextInt(vocab)] = 15f + s;
        }
      }
      return rows;
    }
  }
}
