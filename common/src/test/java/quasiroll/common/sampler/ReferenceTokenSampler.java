package quasiroll.common.sampler;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import quasiroll.common.noise.KeyedHash;
import quasiroll.common.noise.KeyedPermutation;

/**
 * TEST REFERENCE: the processed distribution and the selection rule of docs/samplers.md written out
 * as plainly as possible (scalar loops, full sorts, BigInteger for the quantised CDF, no
 * shortcuts), used to check the optimised {@link CoupledTokenSampler} bit for bit.
 *
 * <ol>
 *   <li>m = max logit (NaN anywhere or an infinite max: refused); a_j = (x_j - m) * invT in float,
 *       invT = {@link WeightExp#invTemperature}; W_j = {@link WeightExp#weight}(a_j) (0 when a_j <
 *       -22.25).
 *   <li>top-k: keep the k largest logits (ties: lower id first); top-p: sort the kept tokens by (W
 *       desc, id asc), keep the shortest prefix whose W sum reaches ceil(topP * S) (clamped to [1,
 *       S]); min-p: drop tokens with 2^40 E(a_j) < minP * 2^40.
 *   <li>S = sum of kept W; P_j = sum of W_i for i < j (id order); f_j = floor(P_{j+1} 2^32 / S) -
 *       floor(P_j 2^32 / S).
 *   <li>Lay the tokens with f > 0 in the vocabulary order; pick the one whose [L, L + f) holds u =
 *       code >>> 32.
 * </ol>
 */
final class ReferenceTokenSampler implements TokenSampler {
  private static final long TWO_32 = 1L << 32;
  private static final double LN_TWO_32 = 32 * StrictMath.log(2);

  @Override
  public TokenChoice select(
      float[] logits, int offset, int vocab, DecodeParams params, SampleNoise noise) {
    float[] x = java.util.Arrays.copyOfRange(logits, offset, offset + vocab);
    float m = max(x);
    long rawSum = 0;
    for (float xj : x) {
      rawSum += WeightExp.weight(WeightExp.arg(xj, m, 1f));
    }
    if (params.greedy()) {
      int argmax = 0;
      while (x[argmax] != m) {
        argmax++;
      }
      noise.advance(0, TWO_32);
      return new TokenChoice(argmax, raw(x[argmax], m, rawSum), 0f);
    }
    long[] f = quantisedWeights(logits, offset, vocab, params);
    List<Integer> order = new ArrayList<>();
    for (int j = 0; j < vocab; j++) {
      if (f[j] > 0) {
        order.add(j);
      }
    }
    switch (params.vocabOrder()) {
      case ID -> {}
      case PROB -> {
        long[] w = weights(x, m, params);
        order.sort(Comparator.comparingLong((Integer j) -> -w[j]).thenComparingInt(j -> j));
      }
      case PERMUTED -> {
        KeyedPermutation perm =
            new KeyedPermutation(
                vocab,
                KeyedHash.hash(
                    noise.promptSeed(),
                    CoupledTokenSampler.DOMAIN_VOCAB_PERMUTATION,
                    noise.position()));
        order.sort(Comparator.comparingLong(j -> perm.apply(j)));
      }
    }
    long u = noise.code() >>> 32;
    long c = 0;
    for (int j : order) {
      if (u < c + f[j]) {
        noise.advance(c, f[j]);
        float processed = (float) (StrictMath.log((double) f[j]) - LN_TWO_32);
        return new TokenChoice(j, raw(x[j], m, rawSum), processed);
      }
      c += f[j];
    }
    throw new IllegalStateException("quanta do not sum to 2^32");
  }

  /** f_j per token id, summing to 2^32. */
  long[] quantisedWeights(float[] logits, int offset, int vocab, DecodeParams params) {
    float[] x = java.util.Arrays.copyOfRange(logits, offset, offset + vocab);
    float m = max(x);
    long[] f = new long[vocab];
    if (params.greedy()) {
      int argmax = 0;
      while (x[argmax] != m) {
        argmax++;
      }
      f[argmax] = TWO_32;
      return f;
    }
    long[] w = weights(x, m, params);
    BigInteger s = BigInteger.ZERO;
    for (long wj : w) {
      s = s.add(BigInteger.valueOf(wj));
    }
    BigInteger p = BigInteger.ZERO;
    for (int j = 0; j < vocab; j++) {
      BigInteger next = p.add(BigInteger.valueOf(w[j]));
      f[j] = next.shiftLeft(32).divide(s).subtract(p.shiftLeft(32).divide(s)).longValueExact();
      p = next;
    }
    return f;
  }

  /** The kept integer weights W_j after top-k, top-p and min-p. */
  private static long[] weights(float[] x, float m, DecodeParams params) {
    int n = x.length;
    float invT = WeightExp.invTemperature(params.temperature());
    long[] w = new long[n];
    float[] e = new float[n];
    for (int j = 0; j < n; j++) {
      e[j] = WeightExp.scaled(WeightExp.arg(x[j], m, invT));
      w[j] = (long) Math.rint(e[j]); // nearest integer, ties to even
    }
    if (params.topK() > 0 && params.topK() < n) {
      List<Integer> byLogit = new ArrayList<>();
      for (int j = 0; j < n; j++) {
        byLogit.add(j);
      }
      byLogit.sort(
          Comparator.comparingDouble((Integer j) -> -(x[j] + 0.0f)).thenComparingInt(j -> j));
      for (int r = params.topK(); r < n; r++) {
        w[byLogit.get(r)] = 0;
        e[byLogit.get(r)] = 0;
      }
    }
    if (params.topP() < 1.0) {
      long s = 0;
      for (long wj : w) {
        s += wj;
      }
      long target = Math.max(1, Math.min(s, (long) Math.ceil(params.topP() * (double) s)));
      List<Integer> kept = new ArrayList<>();
      for (int j = 0; j < n; j++) {
        if (w[j] > 0) {
          kept.add(j);
        }
      }
      kept.sort(Comparator.comparingLong((Integer j) -> -w[j]).thenComparingInt(j -> j));
      long cum = 0;
      int r = 0;
      while (r < kept.size() && cum < target) {
        cum += w[kept.get(r++)];
      }
      for (; r < kept.size(); r++) {
        w[kept.get(r)] = 0;
        e[kept.get(r)] = 0;
      }
    }
    if (params.minP() > 0) {
      for (int j = 0; j < n; j++) {
        if (e[j] < params.minP() * 0x1p40) {
          w[j] = 0;
          e[j] = 0;
        }
      }
    }
    return w;
  }

  private static float max(float[] x) {
    float m = Float.NEGATIVE_INFINITY;
    for (float v : x) {
      if (Float.isNaN(v)) {
        throw new IllegalStateException("logits row contains NaN");
      }
      m = Math.max(m, v);
    }
    if (Float.isInfinite(m)) {
      throw new IllegalStateException("logits row has no finite maximum (max = " + m + ")");
    }
    return m;
  }

  private static float raw(float x, float m, long rawSum) {
    return (float) (((double) x - m) - StrictMath.log((double) rawSum * 0x1p-40));
  }
}
