package quasiroll.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.common.sampler.CoupledTokenSampler;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SampleNoise;
import quasiroll.common.sampler.SamplerSpec;

/**
 * The same measurement as {@link TokenSelectionBench} and {@link ReadPassBench}, in THREAD CPU time
 * (min and median of 40 rounds, all configurations interleaved round by round). JMH reports
 * wall-clock time, which on a shared, oversubscribed machine mostly measures the other tenants; CPU
 * time is far steadier there. Usage: SelectionCpuTime [rounds].
 */
public final class SelectionCpuTime {
  private static final String[] COUPLINGS = {"iid", "lattice", "sobol", "rank1"};
  private static final int[] VOCABS = {32_000, 151_936};

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 40;
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    CoupledTokenSampler sampler = new CoupledTokenSampler();
    int configs = VOCABS.length * (COUPLINGS.length + 1);
    double[][] us = new double[configs][rounds];
    float[][][] rows = new float[VOCABS.length][][];
    SampleNoise[][] noise = new SampleNoise[VOCABS.length][COUPLINGS.length];
    for (int v = 0; v < VOCABS.length; v++) {
      rows[v] = TokenSelectionBench.LogitRows.make(VOCABS[v]);
      for (int c = 0; c < COUPLINGS.length; c++) {
        noise[v][c] =
            CouplingNoiseFactory.INSTANCE.open(SamplerSpec.of(COUPLINGS[c]), 0x5EED, 3, 64);
      }
    }
    double sink = 0;
    for (int round = -10; round < rounds; round++) { // 10 warm-up rounds
      for (int v = 0; v < VOCABS.length; v++) {
        int n = VOCABS[v];
        int reps = n > 100_000 ? 10 : 40;
        for (int c = 0; c <= COUPLINGS.length; c++) {
          long t0 = cpu.getCurrentThreadCpuTime();
          for (int r = 0; r < reps; r++) {
            float[] row = rows[v][r & 3];
            sink +=
                c == COUPLINGS.length
                    ? ReadPassBench.sum(row, n)
                    : sampler.select(row, 0, n, DecodeParams.DEFAULT, noise[v][c]).token();
          }
          if (round >= 0) {
            us[v * (COUPLINGS.length + 1) + c][round] =
                (cpu.getCurrentThreadCpuTime() - t0) / 1e3 / reps;
          }
        }
      }
    }
    System.out.printf("thread CPU time per token, us (min / median of %d rounds)%n", rounds);
    System.out.printf(
        "%7s %9s %9s %9s %7s %8s%n", "vocab", "coupling", "min", "median", "vs iid", "vs read");
    for (int v = 0; v < VOCABS.length; v++) {
      int base = v * (COUPLINGS.length + 1);
      double read = median(us[base + COUPLINGS.length]);
      double iid = median(us[base]);
      System.out.printf(
          "%7d %9s %9.2f %9.2f%n", VOCABS[v], "read-pass", min(us[base + COUPLINGS.length]), read);
      for (int c = 0; c < COUPLINGS.length; c++) {
        double m = median(us[base + c]);
        System.out.printf(
            "%7d %9s %9.2f %9.2f %7.3f %8.2f%n",
            VOCABS[v], COUPLINGS[c], min(us[base + c]), m, m / iid, m / read);
      }
    }
    if (sink == 42.4242) {
      System.out.println();
    }
  }

  static double min(double[] a) {
    return Arrays.stream(a).min().orElse(Double.NaN);
  }

  static double median(double[] a) {
    double[] s = a.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
