package quasiroll.bench;

import java.util.Map;
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
import quasiroll.common.sampler.CouplingKind;
import quasiroll.common.sampler.SampleNoise;
import quasiroll.common.sampler.SamplerSpec;

/**
 * Cost of one token position of a sample's noise (code() then advance()), the work the token
 * sampler adds per generated token, for each coupling; iid is the baseline. Group k = 256, sample
 * index 173; positions run past 1000 so Sobol' padding is included.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class TokenNoiseBench {
  @Param({"iid", "sobol/lms", "sobol/owen", "sobol/xor", "rank1", "lhs"})
  public String sampler;

  private SampleNoise noise;
  private SamplerSpec spec;

  @Setup
  public void setUp() {
    String[] parts = sampler.split("/");
    spec =
        new SamplerSpec(
            CouplingKind.parse(parts[0]),
            parts.length > 1 ? Map.of("scramble", parts[1]) : Map.of());
    noise = CouplingNoiseFactory.INSTANCE.open(spec, 42, 173, 256);
  }

  @Benchmark
  public long codeAndAdvance() {
    if (noise.position() >= 4096) {
      noise = CouplingNoiseFactory.INSTANCE.open(spec, 42, 173, 256);
    }
    long c = noise.code();
    noise.advance(c >>> 32, 1);
    return c;
  }
}
