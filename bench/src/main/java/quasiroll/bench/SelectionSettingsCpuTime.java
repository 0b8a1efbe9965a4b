package quasiroll.bench;

import static quasiroll.bench.SelectionCpuTime.median;
import static quasiroll.bench.SelectionCpuTime.min;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.common.sampler.CoupledTokenSampler;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SampleNoise;
import quasiroll.common.sampler.SamplerSpec;
import quasiroll.common.sampler.VocabOrder;

/**
 * Token-selection cost per decode setting (temperature, top-k, top-p, min-p, vocab order), in
 * THREAD CPU time per token (min and median of the rounds, every setting interleaved round by
 * round), with one read pass over the row as the floor; iid noise, the bench's rows ({@link
 * TokenSelectionBench.LogitRows}). Usage: SelectionSettingsCpuTime [rounds].
 */
public final class SelectionSettingsCpuTime {
  private static final int[] VOCABS = {32_000, 151_936};

  private record Setting(String name, DecodeParams params) {}

  private static DecodeParams params(double t, int topK, double topP, double minP, VocabOrder o) {
    return new DecodeParams(t, topK, topP, minP, o, 256, null, null);
  }

  private static final Setting[] SETTINGS = {
    new Setting("T=1", DecodeParams.DEFAULT),
    new Setting("T=0.7", params(0.7, 0, 1, 0, VocabOrder.ID)),
    new Setting("top-p 0.9", params(1, 0, 0.9, 0, VocabOrder.ID)),
    new Setting("T=0.7 top-p 0.95", params(0.7, 0, 0.95, 0, VocabOrder.ID)),
    new Setting("top-k 40", params(1, 40, 1, 0, VocabOrder.ID)),
    new Setting("min-p 0.05", params(1, 0, 1, 0.05, VocabOrder.ID)),
    new Setting("prob order", params(1, 0, 1, 0, VocabOrder.PROB)),
  };

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    CoupledTokenSampler sampler = new CoupledTokenSampler();
    SampleNoise noise = CouplingNoiseFactory.INSTANCE.open(SamplerSpec.of("iid"), 0x5EED, 3, 64);
    int columns = SETTINGS.length + 1;
    double[][][] us = new double[VOCABS.length][columns][rounds];
    float[][][] rows = new float[VOCABS.length][][];
    for (int v = 0; v < VOCABS.length; v++) {
      rows[v] = TokenSelectionBench.LogitRows.make(VOCABS[v]);
    }
    double sink = 0;
    for (int round = -5; round < rounds; round++) { // 5 warm-up rounds
      for (int v = 0; v < VOCABS.length; v++) {
        int n = VOCABS[v];
        int reps = n > 100_000 ? 10 : 40;
        for (int c = 0; c < columns; c++) {
          long t0 = cpu.getCurrentThreadCpuTime();
          for (int r = 0; r < reps; r++) {
            float[] row = rows[v][r & 3];
            sink +=
                c == SETTINGS.length
                    ? ReadPassBench.sum(row, n)
                    : sampler.select(row, 0, n, SETTINGS[c].params(), noise).token();
          }
          if (round >= 0) {
            us[v][c][round] = (cpu.getCurrentThreadCpuTime() - t0) / 1e3 / reps;
          }
        }
      }
    }
    System.out.printf("thread CPU time per token, us (min / median of %d rounds)%n", rounds);
    System.out.printf("%7s %-18s %9s %9s %8s%n", "vocab", "setting", "min", "median", "vs read");
    for (int v = 0; v < VOCABS.length; v++) {
      double read = median(us[v][SETTINGS.length]);
      System.out.printf(
          "%7d %-18s %9.2f %9.2f%n", VOCABS[v], "read pass", min(us[v][SETTINGS.length]), read);
      for (int c = 0; c < SETTINGS.length; c++) {
        double m = median(us[v][c]);
        System.out.printf(
            "%7d %-18s %9.2f %9.2f %8.1f%n",
            VOCABS[v], SETTINGS[c].name(), min(us[v][c]), m, m / read);
      }
    }
    if (sink == 42.4242) {
      System.out.println();
    }
  }
}
