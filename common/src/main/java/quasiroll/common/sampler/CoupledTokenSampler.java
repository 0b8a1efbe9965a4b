package quasiroll.common.sampler;

import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import quasiroll.common.noise.KeyedHash;
import quasiroll.common.noise.KeyedPermutation;

/**
 * The exact, deterministic token selector every coupling shares (iid included): one row of logits
 * and one sample's 64-bit code in, one token out.
 *
 * <p><b>Processed distribution.</b> With m the largest logit and T the temperature, the weight of
 * token j is w_j = exp((x_j - m) / T) ({@link DeterministicExp}, computed in double as ((double)
 * x_j - m) * (1 / T)); so the most probable token has w = 1 exactly. Truncations zero weights, in
 * this order: top-k keeps the k largest logits (lowest id wins ties); top-p keeps the shortest
 * prefix, in (weight descending, id ascending) order, whose weight sum reaches topP * S; min-p
 * drops w_j < minP (w_max = 1). S is the sum of the kept weights in a FIXED order: four partial
 * sums over j = 0, 1, 2, 3 (mod 4) in id order up to the last multiple of 4, combined as (s0 + s1)
 * + (s2 + s3), then the remaining ids added in order. It never depends on threads or batch
 * composition. T = 0 is greedy: the argmax (lowest id on ties) with probability 1.
 *
 * <p><b>Quantised CDF (K = 32 bits).</b> f_j = floor((w_j / S) * 2^32) for every token (0 for
 * dropped ones); the remainder 2^32 - sum f_j goes to the most probable token (lowest id on ties).
 * The distribution actually sampled is EXACTLY q'_j = f_j / 2^32: for every other token 0 <= q_j -
 * q'_j < 2^-32 (q_j = w_j / S as computed), tokens with q_j < 2^-32 get 0 and are never drawn, and
 * the most probable token absorbs the remainder (at most (#tokens) * 2^-32 extra, e.g. < 3.6e-5 for
 * a 151,936 vocabulary, ~half that on average). iid and every coupling map their codes through this
 * same quantised CDF, so the processed distribution is identical across samplers.
 *
 * <p><b>Selection.</b> Tokens are laid along [0, 2^32) in the {@link VocabOrder} (ID; PROB = weight
 * descending, ties by id, only tokens with f > 0; PERMUTED = a keyed bijection of [0, V) per step,
 * keyed by (prompt seed, position), shared by the whole group). With C_j the cumulative f before
 * token j, the token with C_j <= (code >>> 32) < C_j + f_j is chosen and the noise is advanced with
 * bucket (C_j, f_j). Reported: processed logprob ln(f_j / 2^32), the probability actually sampled;
 * raw logprob = log-softmax of the untruncated logits at temperature 1 (same exp and summation
 * order).
 *
 * <p>Not thread-safe (it keeps scratch arrays): use one instance per thread.
 */
public final class CoupledTokenSampler implements TokenSampler {
  static final double TWO_32 = 0x1p32;
  private static final long TWO_32_LONG = 1L << 32;
  private static final double LN_TWO_32 = 32 * StrictMath.log(2);
  private static final double ROUND_52 = 0x1p52;
  private static final int BLOCK = 64;

  /** Domain of the per-step vocabulary permutation (VocabOrder.PERMUTED). */
  public static final long DOMAIN_VOCAB_PERMUTATION = 0x564f_4341_4250_0001L; // "VOCABP\0\1"

  private static final VectorSpecies<Double> D = DeterministicExp.SPECIES;
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_128;
  private static final VectorSpecies<Double> W = DeterministicExp.WIDE;
  private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
  private static final int LANES = 4;

  private double[] weights = new double[0];
  private double[] blockMass = new double[0];
  private long[] keys = new long[0];
  private final double[] laneScratch = new double[LANES];

  /**
   * Weight mass per binary exponent (index = exponent - Double.MIN_EXPONENT + 1; 0 = subnormal).
   */
  private final double[] exponentMass = new double[Double.MAX_EXPONENT - Double.MIN_EXPONENT + 2];

  private double[] saved = new double[0];
  private int[] ids = new int[0];

  /** Quantised mass per weight bucket (VocabOrder.PROB), see probBucket. */
  private final long[] probBuckets = new long[probBucket(1.0) + 1];

  @Override
  public TokenChoice select(
      float[] logits, int offset, int vocab, DecodeParams params, SampleNoise noise) {
    checkRow(logits, offset, vocab);
    int argmax = argmax(logits, offset, vocab);
    float m = logits[offset + argmax];
    if (params.greedy()) {
      double rawSum = sumWeights(logits, offset, vocab, m, 1.0, null);
      noise.advance(0, TWO_32_LONG);
      return new TokenChoice(argmax, rawLogprob(logits[offset + argmax], m, rawSum), 0f);
    }
    double[] w = scratchWeights(vocab);
    double invT = 1.0 / params.temperature();
    double sumAll = sumWeights(logits, offset, vocab, m, invT, w);
    double rawSum = invT == 1.0 ? sumAll : sumWeights(logits, offset, vocab, m, 1.0, null);
    double sum =
        truncate(logits, offset, vocab, params, w, sumAll) ? fixedOrderSum(w, vocab) : sumAll;
    long u = noise.code() >>> 32;
    long[] chosen =
        params.vocabOrder() == VocabOrder.ID
            ? selectById(w, vocab, sum, argmax, u)
            : selectOrdered(logits, offset, w, vocab, sum, argmax, u, params.vocabOrder(), noise);
    int token = (int) chosen[0];
    long lo = chosen[1];
    long f = chosen[2];
    noise.advance(lo, f);
    float processed = (float) (StrictMath.log((double) f) - LN_TWO_32);
    return new TokenChoice(token, rawLogprob(logits[offset + token], m, rawSum), processed);
  }

  /**
   * Selects one token per row of {@code logits} ([rows x vocab], row r at r * vocab) with {@code
   * noises[r]}, writing {@code out[r]}. Each row is independent of the others.
   */
  public void selectBatch(
      float[] logits,
      int rows,
      int vocab,
      DecodeParams params,
      SampleNoise[] noises,
      TokenChoice[] out) {
    for (int r = 0; r < rows; r++) {
      out[r] = select(logits, r * vocab, vocab, params, noises[r]);
    }
  }

  /**
   * The quantised distribution this sampler draws from, f_j in units of 2^-32 per token id (summing
   * to exactly 2^32). For tests and for callers that need exact probabilities.
   */
  public long[] quantisedWeights(float[] logits, int offset, int vocab, DecodeParams params) {
    checkRow(logits, offset, vocab);
    int argmax = argmax(logits, offset, vocab);
    long[] f = new long[vocab];
    if (params.greedy()) {
      f[argmax] = TWO_32_LONG;
      return f;
    }
    double[] w = scratchWeights(vocab);
    double sumAll =
        sumWeights(logits, offset, vocab, logits[offset + argmax], 1.0 / params.temperature(), w);
    double sum =
        truncate(logits, offset, vocab, params, w, sumAll) ? fixedOrderSum(w, vocab) : sumAll;
    long total = 0;
    for (int j = 0; j < vocab; j++) {
      f[j] = quantum(w[j], sum);
      total += f[j];
    }
    f[argmax] += TWO_32_LONG - total;
    return f;
  }

  /**
   * The {@code n} most probable tokens of the processed distribution (the quantised one of {@link
   * #quantisedWeights}, so a sampled token's entry equals its processed logprob), most probable
   * first, ties by lower id; tokens of probability 0 (truncated) are left out.
   */
  public TopTokens topTokens(float[] logits, int offset, int vocab, DecodeParams params, int n) {
    long[] f = quantisedWeights(logits, offset, vocab, params);
    int want = Math.min(n, vocab);
    int[] ids = new int[want];
    long[] best = new long[want];
    int size = 0;
    for (int j = 0; j < vocab; j++) {
      long w = f[j];
      if (w == 0 || (size == want && w <= best[size - 1])) {
        continue;
      }
      int at = size == want ? size - 1 : size++;
      while (at > 0 && best[at - 1] < w) {
        best[at] = best[at - 1];
        ids[at] = ids[at - 1];
        at--;
      }
      best[at] = w;
      ids[at] = j;
    }
    float[] lp = new float[size];
    for (int i = 0; i < size; i++) {
      lp[i] = (float) (StrictMath.log((double) best[i]) - LN_TWO_32);
    }
    return new TopTokens(java.util.Arrays.copyOf(ids, size), lp);
  }

  /**
   * Scores a given token under the RAW model (log-softmax at temperature 1, no truncation), with
   * exactly the arithmetic of the raw logprob {@link #select} reports, and the {@code n} most
   * probable tokens of that raw distribution (most probable first, ties by lower id). Used for
   * prompt tokens, which were not sampled: their logprob and the top entries come from the same
   * formula, so a token that is the argmax has exactly the top entry's value.
   *
   * @return the token's raw logprob and the top {@code n} (empty arrays when n = 0)
   */
  public RawScore rawScore(float[] logits, int offset, int vocab, int token, int n) {
    checkRow(logits, offset, vocab);
    if (token < 0 || token >= vocab) {
      throw new IllegalArgumentException(
          "token " + token + " outside vocabulary 0.." + (vocab - 1));
    }
    int argmax = argmax(logits, offset, vocab);
    float m = logits[offset + argmax];
    double rawSum = sumWeights(logits, offset, vocab, m, 1.0, null);
    int want = Math.min(n, vocab);
    int[] ids = new int[want];
    float[] best = new float[want];
    int size = 0;
    for (int j = 0; j < vocab; j++) {
      float x = logits[offset + j];
      if (size == want && (want == 0 || x <= best[size - 1])) {
        continue;
      }
      int at = size == want ? size - 1 : size++;
      while (at > 0 && best[at - 1] < x) {
        best[at] = best[at - 1];
        ids[at] = ids[at - 1];
        at--;
      }
      best[at] = x;
      ids[at] = j;
    }
    float[] lp = new float[size];
    for (int i = 0; i < size; i++) {
      lp[i] = rawLogprob(best[i], m, rawSum);
    }
    return new RawScore(
        rawLogprob(logits[offset + token], m, rawSum), new TopTokens(Arrays.copyOf(ids, size), lp));
  }

  /** A token's raw logprob and the most probable tokens of the raw distribution. */
  public record RawScore(float logprob, TopTokens top) {}

  private static void checkRow(float[] logits, int offset, int vocab) {
    if (vocab < 1 || offset < 0 || offset + vocab > logits.length) {
      throw new IllegalArgumentException(
          "logits row ["
              + offset
              + ", "
              + (offset + vocab)
              + ") outside array of "
              + logits.length);
    }
  }

  private static float rawLogprob(float x, float m, double rawSum) {
    return (float) (((double) x - m) - StrictMath.log(rawSum));
  }

  private static long quantum(double w, double sum) {
    return (long) Math.floor(w / sum * TWO_32);
  }

  /** Lowest id holding the largest logit; refuses NaN and infinite maxima (a model bug). */
  private static int argmax(float[] x, int off, int n) {
    FloatVector acc = FloatVector.broadcast(FloatVector.SPECIES_256, Float.NEGATIVE_INFINITY);
    int j = 0;
    int bound = FloatVector.SPECIES_256.loopBound(n);
    for (; j < bound; j += FloatVector.SPECIES_256.length()) {
      acc = acc.max(FloatVector.fromArray(FloatVector.SPECIES_256, x, off + j));
    }
    float m = acc.reduceLanes(VectorOperators.MAX);
    for (; j < n; j++) {
      m = Math.max(m, x[off + j]);
    }
    if (Float.isNaN(m) || Float.isInfinite(m)) {
      throw new IllegalStateException("logits row has no finite maximum (max = " + m + ")");
    }
    // first index holding m, a vector at a time (the same answer as a scalar scan)
    int i = 0;
    for (; i < bound; i += FloatVector.SPECIES_256.length()) {
      var hit =
          FloatVector.fromArray(FloatVector.SPECIES_256, x, off + i).compare(VectorOperators.EQ, m);
      if (hit.anyTrue()) {
        return i + hit.firstTrue();
      }
    }
    for (; i < n; i++) {
      if (x[off + i] == m) {
        return i;
      }
    }
    throw new IllegalStateException("logits row contains NaN");
  }

  /**
   * w_j = exp((x_j - m) * invT) into {@code w} (when not null), returning their sum in the fixed
   * order described in the class comment (the same order as {@link #fixedOrderSum}).
   */
  private static double sumWeights(float[] x, int off, int n, float m, double invT, double[] w) {
    DoubleVector acc = DoubleVector.zero(D);
    DoubleVector mv = DoubleVector.broadcast(D, m);
    DoubleVector it = DoubleVector.broadcast(D, invT);
    int bound = n - n % LANES;
    int j = 0;
    if (DeterministicExp.WIDE_NATIVE) {
      // 8 exps at a time (bit-identical lane by lane), added to the 4-lane partial sums in id
      // order exactly as below: first ids j..j+3, then j+4..j+7.
      double[] out = w != null ? w : new double[8];
      DoubleVector mw = DoubleVector.broadcast(W, m);
      DoubleVector iw = DoubleVector.broadcast(W, invT);
      int wideBound = n - n % 8;
      for (; j < wideBound; j += 8) {
        DoubleVector xv =
            (DoubleVector)
                FloatVector.fromArray(F8, x, off + j).convertShape(VectorOperators.F2D, W, 0);
        DoubleVector e = DeterministicExp.expWide(xv.sub(mw).mul(iw));
        int at = w != null ? j : 0;
        e.intoArray(out, at);
        acc = acc.add(DoubleVector.fromArray(D, out, at));
        acc = acc.add(DoubleVector.fromArray(D, out, at + 4));
      }
    }
    for (; j < bound; j += LANES) {
      DoubleVector xv =
          (DoubleVector)
              FloatVector.fromArray(F, x, off + j).convertShape(VectorOperators.F2D, D, 0);
      DoubleVector e = DeterministicExp.exp(xv.sub(mv).mul(it));
      if (w != null) {
        e.intoArray(w, j);
      }
      acc = acc.add(e);
    }
    double s = (acc.lane(0) + acc.lane(1)) + (acc.lane(2) + acc.lane(3));
    for (; j < n; j++) {
      double e = DeterministicExp.exp(((double) x[off + j] - m) * invT);
      if (w != null) {
        w[j] = e;
      }
      s += e;
    }
    return s;
  }

  static double fixedOrderSum(double[] w, int n) {
    DoubleVector acc = DoubleVector.zero(D);
    int bound = n - n % LANES;
    int j = 0;
    for (; j < bound; j += LANES) {
      acc = acc.add(DoubleVector.fromArray(D, w, j));
    }
    double s = (acc.lane(0) + acc.lane(1)) + (acc.lane(2) + acc.lane(3));
    for (; j < n; j++) {
      s += w[j];
    }
    return s;
  }

  /** Applies top-k, top-p, min-p (in that order) by zeroing weights; true if any applied. */
  private boolean truncate(float[] x, int off, int n, DecodeParams p, double[] w, double sumAll) {
    boolean changed = false;
    if (p.topK() > 0 && p.topK() < n) {
      keepTopK(x, off, n, p.topK(), w);
      changed = true;
    }
    if (p.topP() < 1.0) {
      double current = changed ? fixedOrderSum(w, n) : sumAll;
      keepNucleus(x, off, n, p.topP() * current, w);
      changed = true;
    }
    if (p.minP() > 0) {
      double floor = p.minP(); // minP * w_max, and w_max = exp(0) = 1
      for (int j = 0; j < n; j++) {
        if (w[j] < floor) {
          w[j] = 0;
        }
      }
      changed = true;
    }
    return changed;
  }

  /** Keeps the k tokens with the largest (logit, then lowest id): a size-k min-heap of keys. */
  private void keepTopK(float[] x, int off, int n, int k, double[] w) {
    long[] heap = scratchKeys(k);
    for (int j = 0; j < k; j++) {
      heap[j] = topKey(x[off + j], j);
    }
    for (int j = k / 2 - 1; j >= 0; j--) {
      siftDown(heap, j, k);
    }
    // A key beats the heap's minimum only if its logit is >= that key's logit (as floats,
    // -0.0 == +0.0: a superset), so 8 logits at a time are skipped by one vector compare.
    VectorSpecies<Float> s8 = FloatVector.SPECIES_256;
    int j = k;
    float floor = keyLogit(heap[0]);
    for (; j + s8.length() <= n; j += s8.length()) {
      if (FloatVector.fromArray(s8, x, off + j).compare(VectorOperators.GE, floor).anyTrue()) {
        for (int i = j; i < j + s8.length(); i++) {
          long key = topKey(x[off + i], i);
          if (key > heap[0]) {
            heap[0] = key;
            siftDown(heap, 0, k);
          }
        }
        floor = keyLogit(heap[0]);
      }
    }
    for (; j < n; j++) {
      long key = topKey(x[off + j], j);
      if (key > heap[0]) {
        heap[0] = key;
        siftDown(heap, 0, k);
      }
    }
    long threshold = heap[0];
    // Logits strictly below the threshold's logit have smaller keys: dropped 8 at a time.
    float cut = keyLogit(threshold);
    j = 0;
    for (; j + s8.length() <= n; j += s8.length()) {
      if (FloatVector.fromArray(s8, x, off + j).compare(VectorOperators.LT, cut).allTrue()) {
        Arrays.fill(w, j, j + s8.length(), 0.0);
      } else {
        for (int i = j; i < j + s8.length(); i++) {
          if (topKey(x[off + i], i) < threshold) {
            w[i] = 0;
          }
        }
      }
    }
    for (; j < n; j++) {
      if (topKey(x[off + j], j) < threshold) {
        w[j] = 0;
      }
    }
  }

  /** The logit of a top-k key (sortable is its own inverse; -0.0 comes back as +0.0). */
  private static float keyLogit(long key) {
    int b = (int) (key >> 32);
    return Float.intBitsToFloat(b ^ ((b >> 31) & 0x7FFF_FFFF));
  }

  private static void siftDown(long[] heap, int i, int size) {
    while (true) {
      int l = 2 * i + 1;
      if (l >= size) {
        return;
      }
      int c = l + 1 < size && heap[l + 1] < heap[l] ? l + 1 : l;
      if (heap[c] >= heap[i]) {
        return;
      }
      long t = heap[c];
      heap[c] = heap[i];
      heap[i] = t;
      i = c;
    }
  }

  /** Larger key = larger logit, then lower id. */
  private static long topKey(float x, int id) {
    return (sortable(x) << 32) | (~id & 0xFFFF_FFFFL);
  }

  /** A signed int with the same order as the float (-0.0 folded into +0.0). */
  private static long sortable(float x) {
    int b = Float.floatToIntBits(x + 0.0f);
    return b ^ ((b >> 31) & 0x7FFF_FFFF);
  }

  /**
   * Keeps the shortest (weight desc, id asc) prefix of kept tokens whose weights reach target.
   *
   * <p>Partial selection, bit-identical to sorting every kept token: the tokens with w >= theta
   * form a prefix of that order (ties in w are all in or all out), so when their in-order running
   * sum reaches target, the kept prefix lies inside them and sorting only them gives the same
   * prefix and the same running sums. theta = 2^e is the largest power of two whose candidates'
   * mass (bucketed by binary exponent, any order) exceeds target with a margin; if the in-order sum
   * still falls short, the full sort is used.
   */
  private void keepNucleus(float[] x, int off, int n, double target, double[] w) {
    double[] mass = exponentMass;
    Arrays.fill(mass, 0);
    for (int j = 0; j < n; j++) {
      double v = w[j];
      if (v > 0) {
        mass[Math.getExponent(v) - Double.MIN_EXPONENT + 1] += v;
      }
    }
    double acc = 0;
    int bucket = mass.length - 1;
    for (; bucket > 0; bucket--) {
      acc += mass[bucket];
      if (acc >= target * (1 + 0x1p-20)) {
        break;
      }
    }
    if (bucket > 0) {
      double theta = Math.scalb(1.0, bucket + Double.MIN_EXPONENT - 1);
      int count = byDescendingWeight(x, off, n, w, theta);
      if (nucleusPrefix(w, n, count, target, true)) {
        return;
      }
    }
    int count = byDescendingWeight(x, off, n, w, Double.MIN_VALUE);
    nucleusPrefix(w, n, count, target, false);
  }

  /**
   * Over the sorted {@link #keys}[0..count): finds the shortest prefix whose running sum reaches
   * target and keeps only it (every other weight in the row zeroed). With {@code partial}, returns
   * false (changing nothing) when the prefix does not reach target.
   */
  private boolean nucleusPrefix(double[] w, int n, int count, double target, boolean partial) {
    long[] order = keys;
    double cum = 0;
    int keep = -1;
    for (int r = 0; r < count; r++) {
      cum += w[(int) order[r]];
      if (cum >= target) {
        keep = r + 1;
        break;
      }
    }
    if (keep < 0) {
      if (partial) {
        return false;
      }
      keep = count;
    }
    double[] saved = scratchSaved(keep);
    for (int r = 0; r < keep; r++) {
      saved[r] = w[(int) order[r]];
    }
    Arrays.fill(w, 0, n, 0.0);
    for (int r = 0; r < keep; r++) {
      w[(int) order[r]] = saved[r];
    }
    return true;
  }

  /**
   * Writes into {@link #keys}[0..count) the ids of tokens with w >= minWeight (minWeight > 0)
   * sorted by weight descending, ties by id ascending; low 32 bits of each entry are the id.
   * Returns count.
   */
  private int byDescendingWeight(float[] x, int off, int n, double[] w, double minWeight) {
    long[] k = scratchKeys(n);
    int count = 0;
    for (int j = 0; j < n; j++) {
      if (w[j] >= minWeight) {
        // w is a non-decreasing function of the logit: sort by logit desc, id asc ...
        k[count++] = ((~sortable(x[off + j])) << 32) | j;
      }
    }
    sortByWeightThenId(k, count, w);
    return count;
  }

  /**
   * Sorts keys ((~sortable(logit)) << 32 | id) by logit desc, id asc; then runs of equal w by id;
   * leaves ids.
   */
  private static void sortByWeightThenId(long[] k, int count, double[] w) {
    Arrays.sort(k, 0, count);
    for (int r = 0; r < count; r++) {
      k[r] &= 0xFFFF_FFFFL;
    }
    // ... then, where distinct logits rounded to the same weight, order that run by id.
    int start = 0;
    for (int r = 1; r <= count; r++) {
      if (r == count || w[(int) k[r]] != w[(int) k[start]]) {
        if (r - start > 1) {
          Arrays.sort(k, start, r);
        }
        start = r;
      }
    }
  }

  /**
   * VocabOrder.ID: block sums of f (exact integers in double) locate the block holding u, then the
   * block is scanned. Returns {token, lo, width}.
   */
  private long[] selectById(double[] w, int n, double sum, int argmax, long u) {
    int blocks = (n + BLOCK - 1) / BLOCK;
    double[] mass = scratchBlocks(blocks);
    DoubleVector round = DoubleVector.broadcast(D, ROUND_52);
    double[] lanes = laneScratch;
    double total = 0;
    for (int b = 0; b < blocks; b++) {
      int start = b * BLOCK;
      int end = Math.min(n, start + BLOCK);
      int bound = start + (end - start) / LANES * LANES;
      DoubleVector acc = DoubleVector.zero(D);
      int j = start;
      for (; j < bound; j += LANES) {
        DoubleVector q = DoubleVector.fromArray(D, w, j).div(sum).mul(TWO_32);
        DoubleVector t = q.add(round).sub(round); // nearest integer (q < 2^52)
        t = t.sub(1.0, t.compare(VectorOperators.GT, q)); // -> floor
        acc = acc.add(t);
      }
      // Lane sums are integers < 2^53, so any order is exact. (Stored and added as scalars:
      // a double reduceLanes is not intrinsified by JDK 17 C2 on AVX2 and would box.)
      acc.intoArray(lanes, 0);
      double s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
      for (; j < end; j++) {
        s += Math.floor(w[j] / sum * TWO_32);
      }
      mass[b] = s;
      total += s;
    }
    long remainder = TWO_32_LONG - (long) total;
    int argmaxBlock = argmax / BLOCK;
    long c = 0;
    for (int b = 0; b < blocks; b++) {
      long blockMassB = (long) mass[b] + (b == argmaxBlock ? remainder : 0);
      if (u < c + blockMassB) {
        int end = Math.min(n, (b + 1) * BLOCK);
        for (int j = b * BLOCK; j < end; j++) {
          long f = quantum(w[j], sum) + (j == argmax ? remainder : 0);
          if (u < c + f) {
            return new long[] {j, c, f};
          }
          c += f;
        }
        throw new IllegalStateException("block sums disagree with the per-token quanta");
      }
      c += blockMassB;
    }
    throw new IllegalStateException("quantised CDF does not cover u=" + u + " (total " + c + ")");
  }

  /** VocabOrder.PROB and PERMUTED: explicit order of the tokens with f > 0. */
  private long[] selectOrdered(
      float[] x,
      int off,
      double[] w,
      int n,
      double sum,
      int argmax,
      long u,
      VocabOrder order,
      SampleNoise noise) {
    return order == VocabOrder.PROB
        ? selectByProbability(x, off, w, n, sum, argmax, u)
        : selectPermuted(w, n, sum, argmax, u, noise);
  }

  /**
   * VocabOrder.PERMUTED without a sort: the permutation is a bijection of [0, n), so each token's f
   * is placed at its permuted position (a counting sort) and the positions are walked in order.
   * Tokens with f = 0 occupy no interval, so this is the same walk as sorting the tokens with f > 0
   * by permuted position.
   */
  private long[] selectPermuted(
      double[] w, int n, double sum, int argmax, long u, SampleNoise noise) {
    KeyedPermutation perm =
        new KeyedPermutation(
            n, KeyedHash.hash(noise.promptSeed(), DOMAIN_VOCAB_PERMUTATION, noise.position()));
    long[] fAt = scratchKeys(n);
    int[] idAt = scratchIds(n);
    Arrays.fill(fAt, 0, n, 0L);
    long total = 0;
    int argmaxAt = -1;
    for (int j = 0; j < n; j++) {
      long f = quantum(w[j], sum);
      if (f > 0 || j == argmax) {
        int at = (int) perm.apply(j);
        fAt[at] = f;
        idAt[at] = j;
        if (j == argmax) {
          argmaxAt = at;
        }
        total += f;
      }
    }
    fAt[argmaxAt] += TWO_32_LONG - total;
    long c = 0;
    for (int at = 0; at < n; at++) {
      long f = fAt[at];
      if (u < c + f) {
        return chosen(idAt[at], c, f);
      }
      c += f;
    }
    throw new IllegalStateException("quantised CDF does not cover u=" + u + " (total " + c + ")");
  }

  /**
   * VocabOrder.PROB with partial selection. f is non-increasing along the (weight desc, id asc)
   * order, and tokens with f > 0 have w >= 2^-32 (S >= 1). Their f are summed exactly (as integers)
   * per bucket of w's top bits (exponent and 8 mantissa bits: buckets are ranges of w, so every
   * bucket is a contiguous run of the order); the bucket holding u is found from the bucket totals,
   * and only its tokens are sorted. The argmax (w = 1) is first in the order and carries the
   * remainder, as in the full sort.
   */
  private long[] selectByProbability(
      float[] x, int off, double[] w, int n, double sum, int argmax, long u) {
    long[] mass = probBuckets;
    Arrays.fill(mass, 0L);
    long total = 0;
    for (int j = 0; j < n; j++) {
      long f = quantum(w[j], sum);
      if (f > 0) {
        mass[probBucket(w[j])] += f;
        total += f;
      }
    }
    long remainder = TWO_32_LONG - total;
    mass[probBucket(w[argmax])] += remainder;
    long c = 0;
    int bucket = mass.length - 1;
    for (; bucket >= 0; bucket--) {
      if (u < c + mass[bucket]) {
        break;
      }
      c += mass[bucket];
    }
    if (bucket < 0) {
      throw new IllegalStateException("quantised CDF does not cover u=" + u + " (total " + c + ")");
    }
    long[] k = scratchKeys(n);
    int count = 0;
    for (int j = 0; j < n; j++) {
      if (w[j] >= 0x1p-32 && probBucket(w[j]) == bucket && quantum(w[j], sum) > 0) {
        k[count++] = ((~sortable(x[off + j])) << 32) | j;
      }
    }
    sortByWeightThenId(k, count, w);
    for (int r = 0; r < count; r++) {
      int j = (int) k[r];
      long f = quantum(w[j], sum) + (j == argmax ? remainder : 0);
      if (u < c + f) {
        return chosen(j, c, f);
      }
      c += f;
    }
    throw new IllegalStateException("bucket sums disagree with the per-token quanta");
  }

  private static final long PROB_BUCKET_BASE = Double.doubleToRawLongBits(0x1p-32) >>> 44;

  /**
   * Bucket of a weight w in [2^-32, 1]: a monotone function of w (exponent and 8 mantissa bits).
   */
  private static int probBucket(double w) {
    return (int) ((Double.doubleToRawLongBits(w) >>> 44) - PROB_BUCKET_BASE);
  }

  private static long[] chosen(int token, long lo, long f) {
    return new long[] {token, lo, f};
  }

  private double[] scratchWeights(int n) {
    if (weights.length < n) {
      weights = new double[n];
    }
    return weights;
  }

  private double[] scratchBlocks(int n) {
    if (blockMass.length < n) {
      blockMass = new double[n];
    }
    return blockMass;
  }

  private int[] scratchIds(int n) {
    if (ids.length < n) {
      ids = new int[n];
    }
    return ids;
  }

  private double[] scratchSaved(int n) {
    if (saved.length < n) {
      saved = new double[Math.max(n, 2 * saved.length)];
    }
    return saved;
  }

  private long[] scratchKeys(int n) {
    if (keys.length < n) {
      keys = new long[n];
    }
    return keys;
  }
}
