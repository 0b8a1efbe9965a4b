package quasiroll.bench;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
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

/**
 * The floor for any token selection: one read pass over a logits row (a vectorized float sum with
 * four accumulators, so it is bound by memory/load bandwidth, not by add latency).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class ReadPassBench {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

  @Param({"32000", "151936"})
  int vocab;

  private float[][] rows;
  private int next;

  @Setup
  public void setup() {
    rows = TokenSelectionBench.LogitRows.make(vocab);
  }

  @Benchmark
  public float readPass() {
    return sum(rows[next++ & (rows.length - 1)], vocab);
  }

  static float sum(float[] row, int vocab) {
    FloatVector a = FloatVector.zero(S);
    FloatVector b = FloatVector.zero(S);
    FloatVector c = FloatVector.zero(S);
    FloatVector d = FloatVector.zero(S);
    int step = S.length();
    int j = 0;
    for (; j + 4 * step <= vocab; j += 4 * step) {
      a = a.add(FloatVector.fromArray(S, row, j));
      b = b.add(FloatVector.fromArray(S, row, j + step));
      c = c.add(FloatVector.fromArray(S, row, j + 2 * step));
      d = d.add(FloatVector.fromArray(S, row, j + 3 * step));
    }
    float s = a.add(b).add(c).add(d).reduceLanes(VectorOperators.ADD);
    for (; j < vocab; j++) {
      s += row[j];
    }
    return s;
  }
}
