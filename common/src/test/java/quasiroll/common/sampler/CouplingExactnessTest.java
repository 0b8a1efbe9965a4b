package quasiroll.common.sampler;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.apache.commons.math3.stat.inference.ChiSquareTest;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.common.noise.KeyedHash;
import quasiroll.common.noise.LatticeCodes;
import quasiroll.common.synthetic.MarkovModel;

/**
 * Exactness end to end, for every coupling: over many randomizations (different prompt ids, hence
 * prompt seeds), the sequence that sample i decodes must follow the exact distribution the sampler
 * claims to draw from (products of f / 2^32 along the chain). Chi-square tests with a fixed job
 * seed; each rejects at p < 1e-4, so with ~30 such tests the family-wise false-alarm rate under a
 * correct implementation is below 0.3% (and fixed seeds make every run identical). The two
 * precision tests are also run on a double-based carried code ({@link DoubleCarriedCode}) and must
 * REJECT it, so they have the power they claim.
 */
class CouplingExactnessTest {
  private static final long JOB_SEED = 20_261_126L;
  private static final double ALPHA = 1e-4;
  private static final long TWO_32 = 1L << 32;
  private final CoupledTokenSampler sampler = new CoupledTokenSampler();

  /** Opens a coupling's noise; skips couplings whose implementation is not merged yet. */
  private static SampleNoise open(CouplingKind c, long promptSeed, int index, int k) {
    try {
      return CouplingNoiseFactory.INSTANCE.open(new SamplerSpec(c, Map.of()), promptSeed, index, k);
    } catch (UnsupportedOperationException e) {
      Assumptions.abort(c.shortName() + " not available yet: " + e.getMessage());
      throw e;
    }
  }

  private static long seedOf(int trial, long salt) {
    return KeyedHash.promptSeed(JOB_SEED + salt, "r" + trial);
  }

  /**
   * Decodes up to maxSteps tokens through rows.apply(previous token or -1); stops at token 0 if
   * eosStops.
   */
  private List<Integer> decode(
      SampleNoise noise, IntFunction<float[]> rows, int maxSteps, boolean eosStops) {
    List<Integer> out = new ArrayList<>();
    int prev = -1;
    for (int t = 0; t < maxSteps; t++) {
      float[] row = rows.apply(prev);
      prev = sampler.select(row, 0, row.length, DecodeParams.DEFAULT, noise).token();
      out.add(prev);
      if (eosStops && prev == 0) {
        break;
      }
    }
    return out;
  }

  private static double pValue(Map<String, Double> expected, Map<String, Long> observed) {
    for (String key : observed.keySet()) {
      assertTrue(expected.getOrDefault(key, 0.0) > 0, "drew an impossible outcome " + key);
    }
    long n = observed.values().stream().mapToLong(Long::longValue).sum();
    List<Double> e = new ArrayList<>();
    List<Long> o = new ArrayList<>();
    double restE = 0;
    long restO = 0;
    for (Map.Entry<String, Double> c : expected.entrySet()) {
      long obs = observed.getOrDefault(c.getKey(), 0L);
      if (c.getValue() * n < 5) {
        restE += c.getValue();
        restO += obs;
      } else {
        e.add(c.getValue());
        o.add(obs);
      }
    }
    if (restE * n >= 1) {
      e.add(restE);
      o.add(restO);
    }
    return new ChiSquareTest()
        .chiSquareTest(
            e.stream().mapToDouble(Double::doubleValue).toArray(),
            o.stream().mapToLong(Long::longValue).toArray());
  }

  private static float[][] markovRows(MarkovModel m) {
    float[][] rows = new float[m.vocabSize() + 1][];
    for (int s = 1; s <= m.vocabSize(); s++) {
      rows[s] = m.logits(s);
    }
    return rows;
  }

  private static IntFunction<float[]> markovSource(MarkovModel m, float[][] rows) {
    return prev -> rows[prev < 0 ? m.bosState() : m.stateAfter(prev)];
  }

  // ------------------------------------------------------------------ short sequences

  @ParameterizedTest
  @EnumSource(CouplingKind.class)
  void shortSequencesFollowTheModel(CouplingKind c) {
    MarkovModel m = MarkovModel.parse("synthetic:markov?vocab=4&seed=7&eos=0.25&sharpness=1.5");
    float[][] rows = markovRows(m);
    Map<String, Double> expected = new HashMap<>();
    enumerate(m, rows, m.bosState(), "", 1.0, 3, expected);
    for (int[] ik : new int[][] {{5, 8}, {2, 3}}) {
      Map<String, Long> observed = new HashMap<>();
      for (int r = 0; r < 4000; r++) {
        SampleNoise noise = open(c, seedOf(r, ik[0]), ik[0], ik[1]);
        observed.merge(decode(noise, markovSource(m, rows), 3, true).toString(), 1L, Long::sum);
      }
      double p = pValue(expected, observed);
      assertTrue(p > ALPHA, c + " index " + ik[0] + " of " + ik[1] + ": chi-square p=" + p);
    }
  }

  private void enumerate(
      MarkovModel m,
      float[][] rows,
      int state,
      String prefix,
      double prob,
      int left,
      Map<String, Double> out) {
    long[] f = sampler.quantisedWeights(rows[state], 0, m.vocabSize(), DecodeParams.DEFAULT);
    for (int j = 0; j < m.vocabSize(); j++) {
      if (f[j] == 0) {
        continue;
      }
      double p = prob * f[j] / TWO_32;
      String seq = prefix.isEmpty() ? "" + j : prefix + ", " + j;
      if (j == 0 || left == 1) {
        out.merge("[" + seq + "]", p, Double::sum);
      } else {
        enumerate(m, rows, m.stateAfter(j), seq, p, left - 1, out);
      }
    }
  }

  // ------------------------------------------------------------------ precision traps

  /**
   * 4096 equally likely tokens (12 bits per step, dyadic buckets of width 2^20): after five steps
   * the sequence has 60 bits of surprisal. The joint law of the tokens at steps 5 and 6 (each cut
   * into 16 bins of 256 ids) must still be uniform. A double code has run dry by then (it always
   * picks the first bucket) and must fail.
   */
  private double dyadicHighSurprisalP(IntFunction<SampleNoise> noises) {
    float[] row = new MarkovModel(4097, 1, 0.0, 0.0, 4096).logits(1);
    long[] f = sampler.quantisedWeights(row, 0, row.length, DecodeParams.DEFAULT);
    for (int j = 1; j < row.length; j++) {
      assertTrue(f[j] == 1L << 20, "bucket widths must be dyadic for this test");
    }
    Map<String, Double> expected = new HashMap<>();
    for (int a = 0; a < 16; a++) {
      for (int b = 0; b < 16; b++) {
        expected.put(a + "," + b, 1 / 256.0);
      }
    }
    Map<String, Long> observed = new HashMap<>();
    for (int r = 0; r < 2000; r++) {
      List<Integer> seq = decode(noises.apply(r), prev -> row, 7, false);
      observed.merge((seq.get(5) - 1) / 256 + "," + (seq.get(6) - 1) / 256, 1L, Long::sum);
    }
    return pValue(expected, observed);
  }

  /**
   * 200 fair coin flips (1 bit per step): every exact sampler gives 200 independent fair bits.
   * Checked: the joint law of steps 197..199, and the number of ones in steps 100..109
   * (Binomial(10, 1/2)). A double code runs dry after 53 steps and must fail.
   */
  private double[] longCoinChainP(IntFunction<SampleNoise> noises) {
    float[] row = {0f, 0f};
    Map<String, Double> tail = new HashMap<>();
    for (int v = 0; v < 8; v++) {
      tail.put("" + v, 1 / 8.0);
    }
    Map<String, Double> ones = new HashMap<>();
    double binom = 1;
    for (int v = 0; v <= 10; v++) {
      ones.put("" + v, binom / 1024);
      binom = binom * (10 - v) / (v + 1);
    }
    Map<String, Long> tailObs = new HashMap<>();
    Map<String, Long> onesObs = new HashMap<>();
    for (int r = 0; r < 1500; r++) {
      List<Integer> seq = decode(noises.apply(r), prev -> row, 200, false);
      tailObs.merge("" + (seq.get(197) * 4 + seq.get(198) * 2 + seq.get(199)), 1L, Long::sum);
      onesObs.merge(
          "" + seq.subList(100, 110).stream().mapToInt(Integer::intValue).sum(), 1L, Long::sum);
    }
    return new double[] {pValue(tail, tailObs), pValue(ones, onesObs)};
  }

  @ParameterizedTest
  @EnumSource(CouplingKind.class)
  void highSurprisalSequencesStayExact(CouplingKind c) {
    double p = dyadicHighSurprisalP(r -> open(c, seedOf(r, 100), 5, 8));
    assertTrue(p > ALPHA, c + ": dyadic high-surprisal chi-square p=" + p);
    double[] q = longCoinChainP(r -> open(c, seedOf(r, 200), 5, 8));
    assertTrue(q[0] > ALPHA && q[1] > ALPHA, c + ": 200-step coin chain p=" + q[0] + ", " + q[1]);
  }

  @Test
  void aDoubleCarriedCodeFailsThePrecisionTests() {
    double p =
        dyadicHighSurprisalP(
            r -> new DoubleCarriedCode(LatticeCodes.initialCode(seedOf(r, 100), 5, 8)));
    assertTrue(p < ALPHA, "the dyadic test cannot detect a double code: p=" + p);
    double[] q =
        longCoinChainP(r -> new DoubleCarriedCode(LatticeCodes.initialCode(seedOf(r, 200), 5, 8)));
    assertTrue(
        q[0] < ALPHA && q[1] < ALPHA,
        "the coin-chain test cannot detect a double code: p=" + q[0] + ", " + q[1]);
  }

  /**
   * A long, low-entropy Markov chain (16 tokens, sharpness 4, no EOS), 200 steps: the expected
   * total surprisal exceeds 64 bits (asserted), so neither a double nor a 64-bit code without
   * refills would survive it. The token at step 199 must follow the exact forward marginal.
   */
  @ParameterizedTest
  @EnumSource(CouplingKind.class)
  void longLowEntropyChainHasTheExactFinalMarginal(CouplingKind c) {
    MarkovModel m = MarkovModel.parse("synthetic:markov?vocab=16&seed=3&eos=0&sharpness=4");
    float[][] rows = markovRows(m);
    int v = m.vocabSize();
    double[][] q = new double[v + 1][];
    double[] entropy = new double[v + 1];
    for (int s = 1; s <= v; s++) {
      long[] f = sampler.quantisedWeights(rows[s], 0, v, DecodeParams.DEFAULT);
      q[s] = new double[v];
      for (int j = 0; j < v; j++) {
        q[s][j] = f[j] / (double) TWO_32;
        entropy[s] -= q[s][j] > 0 ? q[s][j] * Math.log(q[s][j]) / Math.log(2) : 0;
      }
    }
    double[] stateLaw = new double[v + 1];
    stateLaw[m.bosState()] = 1;
    double[] tokenLaw = null;
    double bits = 0;
    for (int t = 0; t < 200; t++) {
      tokenLaw = new double[v];
      for (int s = 1; s <= v; s++) {
        bits += stateLaw[s] * entropy[s];
        for (int j = 0; j < v; j++) {
          tokenLaw[j] += stateLaw[s] * q[s][j];
        }
      }
      stateLaw = new double[v + 1];
      for (int j = 1; j < v; j++) {
        stateLaw[j] = tokenLaw[j];
      }
    }
    assertTrue(bits > 64, "expected surprisal of the chain is only " + bits + " bits");
    Map<String, Double> expected = new HashMap<>();
    for (int j = 0; j < v; j++) {
      if (tokenLaw[j] > 0) {
        expected.put("" + j, tokenLaw[j]);
      }
    }
    Map<String, Long> observed = new HashMap<>();
    for (int r = 0; r < 1500; r++) {
      List<Integer> seq = decode(open(c, seedOf(r, 300), 5, 8), markovSource(m, rows), 200, false);
      observed.merge("" + seq.get(199), 1L, Long::sum);
    }
    double p = pValue(expected, observed);
    assertTrue(p > ALPHA, c + ": final-token marginal chi-square p=" + p);
  }
}
