package quasiroll.common.sampler;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import quasiroll.common.noise.KeyedHash;
import quasiroll.common.noise.KeyedPermutation;

/**
 * The exact, deterministic token selector every coupling shares (iid included): one row of logits
 * and one sample's 64-bit code in, one token out. The full definition, with its error bound against
 * the exact softmax, is in docs/samplers.md ("What every sample is drawn from").
 *
 * <p><b>Weights.</b> With m the largest logit and T the temperature, a_j = (x_j - m) * (1/T) in
 * binary32 and W_j = rint(2^40 * E(a_j)) ({@link WeightExp}: an IEEE-only float exp); tokens with
 * a_j < -22.25 (probability < 2^-32) get W_j = 0, and the most probable token W = 2^40. Truncations
 * zero weights, in this order: top-k keeps the k largest logits (lowest id wins ties); top-p keeps
 * the shortest prefix, in (W desc, id asc) order, whose integer weight sum reaches ceil(topP * S);
 * min-p drops tokens with E(a_j) < minP. S = the sum of the kept W_j, an exact integer (so it is
 * the same in any summation order, thread count or device). T = 0 is greedy: the argmax (lowest id
 * on ties) with probability 1.
 *
 * <p><b>Quantised CDF (K = 32 bits).</b> With P_j = W_0 + ... + W_{j-1} (id order) and C(P) =
 * floor(P * 2^32 / S) computed exactly, token j gets f_j = C(P_{j+1}) - C(P_j) units of 2^-32: the
 * f_j sum to exactly 2^32 and |f_j - 2^32 W_j / S| < 1. The distribution actually sampled is
 * EXACTLY q'_j = f_j / 2^32, the same for every coupling and every vocabulary order.
 *
 * <p><b>Selection.</b> Tokens are laid along [0, 2^32) in the {@link VocabOrder} (ID; PROB = W
 * descending, ties by id, only tokens with f > 0; PERMUTED = a keyed bijection of [0, V) per step,
 * keyed by (prompt seed, position), shared by the whole group). With L_j the sum of f before token
 * j in that order, the token with L_j <= (code >>> 32) < L_j + f_j is chosen and the noise is
 * advanced with bucket (L_j, f_j). Reported: processed logprob ln(f_j / 2^32), the probability
 * actually sampled; raw logprob = (x_j - m) - ln(S_raw / 2^40), S_raw the untruncated weight sum at
 * T = 1.
 *
 * <p>Not thread-safe (it keeps scratch arrays): use one instance per thread.
 */
public final class CoupledTokenSampler implements TokenSampler {
  /**
   * Revision of the processed distribution's definition (docs/samplers.md): raised whenever a
   * change makes the same seed give other tokens, so stored results of an earlier revision are
   * never mixed with new ones (sweep directories record it). 1: double exp over every token; 2:
   * float weight exp, 22.25-nat cut-off, exact integer CDF in id order.
   */
  public static final int DISTRIBUTION_REVISION = 2;

  static final double TWO_32 = 0x1p32;
  private static final long TWO_32_LONG = 1L << 32;
  private static final double LN_TWO_32 = 32 * StrictMath.log(2);
  private static final double WEIGHT_UNIT = 0x1p-40;

  /** Largest vocabulary accepted: S <= V * 2^40 must stay below 2^61 for the exact CDF. */
  public static final int MAX_VOCAB = 1 << 20;

  /** Tokens per block of the id-order CDF search (block sums come out of the weight pass). */
  private static final int BLOCK = 256;

  /** Domain of the per-step vocabulary permutation (VocabOrder.PERMUTED). */
  public static final long DOMAIN_VOCAB_PERMUTATION = 0x564f_4341_4250_0001L; // "VOCABP\0\1"

  /** The platform's widest float vectors: every lane's result is the same at any width. */
  private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;

  /** Ints in vectors of the same shape (the exact weight sums). */
  private static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;

  private float[] weights = new float[0];
  private long[] blockSums = new long[0];
  private long[] quanta = new long[0];
  private long[] keys = new long[0];
  private int[] ids = new int[0];
  private float[] saved = new float[0];

  /** Integer weight mass per float exponent of W (top-p partial selection). */
  private final long[] exponentMass = new long[4 * 256];

  /** Quantised mass per weight bucket (VocabOrder.PROB), see probBucket. */
  private final long[] probBuckets = new long[probBucket(0x1p42f) + 1];

  @Override
  public TokenChoice select(
      float[] logits, int offset, int vocab, DecodeParams params, SampleNoise noise) {
    checkRow(logits, offset, vocab);
    float m = maxLogit(logits, offset, vocab);
    if (params.greedy()) {
      int argmax = firstIndexOf(logits, offset, vocab, m);
      long rawSum = weighAtUnitTemperature(logits, offset, vocab, m, null);
      noise.advance(0, TWO_32_LONG);
      return new TokenChoice(argmax, rawLogprob(logits[offset + argmax], m, rawSum), 0f);
    }
    float invT = WeightExp.invTemperature(params.temperature());
    boolean truncating = truncates(params, vocab);
    VocabOrder order = params.vocabOrder();
    float[] v = truncating || order != VocabOrder.ID ? scratchWeights(vocab) : null;
    long[] blocks = scratchBlocks((vocab + BLOCK - 1) / BLOCK);
    // (two methods, each with one vector loop, so that the JIT inlines the whole exp into each)
    long sumAll =
        invT == 1f && v == null
            ? weighAtUnitTemperature(logits, offset, vocab, m, blocks)
            : weigh(logits, offset, vocab, m, invT, v, blocks);
    long rawSum = invT == 1f ? sumAll : weighAtUnitTemperature(logits, offset, vocab, m, null);
    long sum = sumAll;
    if (truncating) {
      truncate(logits, offset, vocab, params, v, sumAll);
      sum = sumStored(v, vocab, blocks);
    }
    long u = noise.code() >>> 32;
    long[] chosen =
        switch (order) {
          case ID -> selectById(logits, offset, vocab, m, invT, v, blocks, sum, u);
          case PROB -> selectByProbability(v, vocab, sum, u);
          case PERMUTED -> selectPermuted(v, vocab, sum, u, noise);
        };
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
   * to exactly 2^32; the same for every vocabulary order). For tests and for callers that need
   * exact probabilities.
   */
  public long[] quantisedWeights(float[] logits, int offset, int vocab, DecodeParams params) {
    checkRow(logits, offset, vocab);
    float m = maxLogit(logits, offset, vocab);
    long[] f = new long[vocab];
    if (params.greedy()) {
      f[firstIndexOf(logits, offset, vocab, m)] = TWO_32_LONG;
      return f;
    }
    float[] v = scratchWeights(vocab);
    long sum =
        weigh(
            logits,
            offset,
            vocab,
            m,
            WeightExp.invTemperature(params.temperature()),
            v,
            scratchBlocks((vocab + BLOCK - 1) / BLOCK));
    if (truncates(params, vocab)) {
      truncate(logits, offset, vocab, params, v, sum);
      sum = sumStored(v, vocab, null);
    }
    quantise(v, vocab, sum, f);
    return f;
  }

  /**
   * The {@code n} most probable tokens of the processed distribution (the quantised one of {@link
   * #quantisedWeights}, so a sampled token's entry equals its processed logprob), most probable
   * first, ties by lower id; tokens of probability 0 (truncated) are left out.
   */
  public TopTokens topTokens(float[] logits, int offset, int vocab, DecodeParams params, int n) {
    long[] f = quantisedWeights(logits, offset, vocab, params);
    Largest best = new Largest(Math.min(n, vocab));
    for (int j = 0; j < vocab; j++) {
      if (f[j] != 0) {
        best.offer(j, f[j]); // (quanta are below 2^33: exact as a double)
      }
    }
    float[] lp = new float[best.size];
    for (int i = 0; i < best.size; i++) {
      lp[i] = (float) (StrictMath.log(best.keys[i]) - LN_TWO_32);
    }
    return new TopTokens(Arrays.copyOf(best.ids, best.size), lp);
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
    float m = maxLogit(logits, offset, vocab);
    long rawSum = weighAtUnitTemperature(logits, offset, vocab, m, null);
    Largest best = new Largest(Math.min(n, vocab));
    for (int j = 0; j < vocab; j++) {
      best.offer(j, logits[offset + j]);
    }
    float[] lp = new float[best.size];
    for (int i = 0; i < best.size; i++) {
      lp[i] = rawLogprob((float) best.keys[i], m, rawSum);
    }
    return new RawScore(
        rawLogprob(logits[offset + token], m, rawSum),
        new TopTokens(Arrays.copyOf(best.ids, best.size), lp));
  }

  /** The ids of the n largest keys offered in id order: largest first, ties by lower id. */
  private static final class Largest {
    final int[] ids;
    final double[] keys;
    int size;

    Largest(int n) {
      ids = new int[n];
      keys = new double[n];
    }

    void offer(int id, double key) {
      int want = ids.length;
      if (want == 0 || (size == want && key <= keys[size - 1])) {
        return;
      }
      int at = size == want ? size - 1 : size++;
      while (at > 0 && keys[at - 1] < key) {
        keys[at] = keys[at - 1];
        ids[at] = ids[at - 1];
        at--;
      }
      keys[at] = key;
      ids[at] = id;
    }
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
    if (vocab > MAX_VOCAB) {
      throw new IllegalArgumentException(
          "vocabulary of " + vocab + " tokens is too large: at most " + MAX_VOCAB + " accepted");
    }
  }

  private static boolean truncates(DecodeParams p, int n) {
    return (p.topK() > 0 && p.topK() < n) || p.topP() < 1.0 || p.minP() > 0;
  }

  /** Raw logprob (x - m) - ln(S_raw / 2^40), the GPU sampler's host formula too. */
  private static float rawLogprob(float x, float m, long rawSum) {
    return (float) (((double) x - m) - StrictMath.log((double) rawSum * WEIGHT_UNIT));
  }

  /**
   * C(p) = floor(p * 2^32 / s), exactly, for 0 <= p <= s < 2^61; {@code r} = 2^32 / s (a double
   * estimate of the quotient, then corrected with the exact remainder, which lies in [-s, 2s) and
   * so is exact in wrapping 64-bit arithmetic).
   */
  static long cdf(long p, long s, double r) {
    long q = (long) ((double) p * r);
    long rem = (p << 32) - q * s;
    while (rem < 0) {
      q--;
      rem += s;
    }
    while (rem >= s) {
      q++;
      rem -= s;
    }
    return q;
  }

  /** ceil(a * s / 2^32), exactly, for 0 <= a <= 2^32 and 0 <= s < 2^61. */
  static long ceilScaled(long a, long s) {
    long hi = Math.unsignedMultiplyHigh(a, s);
    long lo = a * s;
    long q = (hi << 32) | (lo >>> 32);
    return (lo & 0xFFFF_FFFFL) != 0 ? q + 1 : q;
  }

  /** The largest logit; refuses NaN anywhere in the row and infinite maxima (a model bug). */
  private static float maxLogit(float[] x, int off, int n) {
    FloatVector a = FloatVector.broadcast(FS, Float.NEGATIVE_INFINITY);
    FloatVector b = a;
    int step = FS.length();
    int j = 0;
    for (; j + 2 * step <= n; j += 2 * step) {
      a = a.max(FloatVector.fromArray(FS, x, off + j));
      b = b.max(FloatVector.fromArray(FS, x, off + j + step));
    }
    // lanewise MAX (like Math.max) returns NaN if either input is NaN, in any order
    float m = a.max(b).reduceLanes(VectorOperators.MAX);
    for (; j < n; j++) {
      m = Math.max(m, x[off + j]);
    }
    if (Float.isNaN(m) || Float.isInfinite(m)) {
      throw new IllegalStateException("logits row has no finite maximum (max = " + m + ")");
    }
    return m;
  }

  /** Lowest id holding m (a logit of the row). */
  private static int firstIndexOf(float[] x, int off, int n, float m) {
    int i = 0;
    for (; i + FS.length() <= n; i += FS.length()) {
      var hit = FloatVector.fromArray(FS, x, off + i).compare(VectorOperators.EQ, m);
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
   * The weight pass: 2^40 E(a_j) into {@code out} (when not null), the integer weight sum of each
   * BLOCK of ids into {@code blocks} (when not null); returns S = sum of W_j (exact, so the lane
   * and block structure cannot change it).
   */
  private static long weigh(
      float[] x, int off, int n, float m, float invT, float[] out, long[] blocks) {
    FloatVector mv = FloatVector.broadcast(FS, m);
    FloatVector iv = FloatVector.broadcast(FS, invT);
    int step = FS.length();
    long total = 0;
    for (int b = 0, start = 0; start < n; b++, start += BLOCK) {
      int end = Math.min(n, start + BLOCK);
      IntVector high = IntVector.zero(IS);
      IntVector low = high;
      int j = start;
      for (; j + step <= end; j += step) {
        FloatVector s = WeightExp.scaled(FloatVector.fromArray(FS, x, off + j).sub(mv).mul(iv));
        if (out != null) {
          s.intoArray(out, j);
        }
        high = high.add(highBits(s));
        low = low.add(lowBits(s));
      }
      long sum = blockTotal(high, low, (j - start) / step);
      for (; j < end; j++) {
        float s = WeightExp.scaled(WeightExp.arg(x[off + j], m, invT));
        if (out != null) {
          out[j] = s;
        }
        sum += WeightExp.integer(s);
      }
      if (blocks != null) {
        blocks[b] = sum;
      }
      total += sum;
    }
    return total;
  }

  /** {@link #weigh} for invT = 1 (the multiply by 1 is exact, so it is skipped) and no output. */
  private static long weighAtUnitTemperature(float[] x, int off, int n, float m, long[] blocks) {
    FloatVector mv = FloatVector.broadcast(FS, m);
    int step = FS.length();
    long total = 0;
    for (int b = 0, start = 0; start < n; b++, start += BLOCK) {
      int end = Math.min(n, start + BLOCK);
      IntVector high = IntVector.zero(IS);
      IntVector low = high;
      int j = start;
      for (; j + step <= end; j += step) {
        FloatVector s = WeightExp.scaled(FloatVector.fromArray(FS, x, off + j).sub(mv));
        high = high.add(highBits(s));
        low = low.add(lowBits(s));
      }
      long sum = blockTotal(high, low, (j - start) / step);
      for (; j < end; j++) {
        sum += WeightExp.weight(WeightExp.arg(x[off + j], m, 1f));
      }
      if (blocks != null) {
        blocks[b] = sum;
      }
      total += sum;
    }
    return total;
  }

  /*
   * Exact sums of W = rint(v) for weights v in [0, 2^41) without a float-to-long conversion: v = h
   * 2^20 + l with h = rint(v / 2^20) and l = v - h 2^20 (exact in float), so rint(v) = h 2^20 +
   * rint(l). h and rint(l) are the mantissa bits of 1.5 * 2^23 + (v / 2^20 or l) (the rounding
   * trick); their bit patterns are summed in int lanes (wrapping) and the bias of 1.5 * 2^23 is
   * taken off per block, where the true sums are below 2^28 in magnitude.
   */
  private static final float MAGIC = 0x1.8p23f;
  private static final int MAGIC_BITS = Float.floatToRawIntBits(MAGIC);

  private static IntVector highBits(FloatVector v) {
    return (IntVector) v.fma(0x1p-20f, MAGIC).reinterpretAsInts();
  }

  private static IntVector lowBits(FloatVector v) {
    FloatVector h = v.fma(0x1p-20f, MAGIC).sub(MAGIC);
    return (IntVector) h.fma(v.broadcast(-0x1p20f), v).add(MAGIC).reinterpretAsInts();
  }

  private static long blockTotal(IntVector high, IntVector low, int vectors) {
    int bias = vectors * IS.length() * MAGIC_BITS;
    int h = high.reduceLanes(VectorOperators.ADD) - bias;
    int l = low.reduceLanes(VectorOperators.ADD) - bias;
    return ((long) h << 20) + l;
  }

  /** S and the block sums again from stored (possibly truncated) weights. */
  private static long sumStored(float[] v, int n, long[] blocks) {
    int step = FS.length();
    long total = 0;
    for (int b = 0, start = 0; start < n; b++, start += BLOCK) {
      int end = Math.min(n, start + BLOCK);
      IntVector high = IntVector.zero(IS);
      IntVector low = high;
      int j = start;
      for (; j + step <= end; j += step) {
        FloatVector s = FloatVector.fromArray(FS, v, j);
        high = high.add(highBits(s));
        low = low.add(lowBits(s));
      }
      long sum = blockTotal(high, low, (j - start) / step);
      for (; j < end; j++) {
        sum += WeightExp.integer(v[j]);
      }
      if (blocks != null) {
        blocks[b] = sum;
      }
      total += sum;
    }
    return total;
  }

  /** f_j = C(P_{j+1}) - C(P_j) in id order for every token (tokens with W = 0 get 0). */
  private static void quantise(float[] v, int n, long sum, long[] f) {
    quantise(v, n, sum, f, null);
  }

  /**
   * {@link #quantise(float[], int, long, long[])}, also adding each token's f to {@code
   * bucketMass[probBucket(v_j)]} when that is not null (VocabOrder.PROB), in the same pass.
   */
  private static void quantise(float[] v, int n, long sum, long[] f, long[] bucketMass) {
    double r = TWO_32 / (double) sum;
    long p = 0;
    long c = 0;
    for (int j = 0; j < n; j++) {
      float w = WeightExp.rintFloat(v[j]); // W exactly (a float integer)
      if (w == 0) {
        f[j] = 0;
        continue;
      }
      p += (long) w;
      long next = cdf(p, sum, r);
      f[j] = next - c;
      c = next;
      if (bucketMass != null) {
        bucketMass[bucketOfWeight(w)] += f[j];
      }
    }
  }

  /** Applies top-k, top-p, min-p (in that order) by zeroing weights. */
  private void truncate(float[] x, int off, int n, DecodeParams p, float[] v, long sumAll) {
    boolean changed = false;
    if (p.topK() > 0 && p.topK() < n) {
      keepTopK(x, off, n, p.topK(), v);
      changed = true;
    }
    if (p.topP() < 1.0) {
      long current = changed ? sumStored(v, n, null) : sumAll;
      keepNucleus(n, nucleusTarget(p.topP(), current), v);
    }
    if (p.minP() > 0) {
      double floor = p.minP() * 0x1p40; // E(a) < minP, with E(0) = 1 for the most probable token
      for (int j = 0; j < n; j++) {
        if (v[j] < floor) {
          v[j] = 0;
        }
      }
    }
  }

  /** ceil(topP * S) in double arithmetic, within [1, S]. */
  static long nucleusTarget(double topP, long sum) {
    return Math.max(1, Math.min(sum, (long) Math.ceil(topP * (double) sum)));
  }

  /** Keeps the k tokens with the largest (logit, then lowest id): a size-k min-heap of keys. */
  private void keepTopK(float[] x, int off, int n, int k, float[] w) {
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
        Arrays.fill(w, j, j + s8.length(), 0f);
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
   * Keeps the shortest (W desc, id asc) prefix of kept tokens whose integer weights reach target.
   *
   * <p>Partial selection, the same prefix as sorting every kept token: the tokens whose weight has
   * float exponent >= e form a prefix of that order, so with e the largest exponent whose tokens'
   * exact mass reaches target, the kept prefix lies among them and sorting only them suffices.
   */
  private void keepNucleus(int n, long target, float[] v) {
    // four tables (by j mod 4), so that consecutive tokens of one bucket do not wait for each
    // other's store; integer sums, so the split changes nothing
    long[] mass = exponentMass;
    Arrays.fill(mass, 0L);
    for (int j = 0; j < n; j++) { // (no branch on v = 0: it adds 0 to bucket 0, never read)
      float w = WeightExp.rintFloat(v[j]); // W, exactly
      mass[((j & 3) << 8) | (Float.floatToRawIntBits(w) >>> 23)] += (long) w;
    }
    long acc = 0;
    int e = 255;
    for (; e > 0; e--) {
      acc += mass[e] + mass[256 | e] + mass[512 | e] + mass[768 | e];
      if (acc >= target) {
        break;
      }
    }
    // W >= 2^(e - 127) <=> v >= 2^(e - 127) - 1/2 (rint, ties to even; W >= 238 > 1), a float
    // threshold (it rounds to 2^(e - 127) itself from 2^25 on, where every v is an integer)
    float threshold = (float) (Math.scalb(1.0, e - 127) - 0.5);
    long[] k = scratchKeys(n);
    int count = 0;
    for (int j = 0; j < n; j++) {
      if (v[j] >= threshold) {
        k[count++] = weightKey(v[j], j);
      }
    }
    Arrays.sort(k, 0, count);
    long cum = 0;
    int keep = count;
    for (int r = 0; r < count; r++) {
      k[r] &= 0xF_FFFFL;
      cum += WeightExp.integer(v[(int) k[r]]);
      if (cum >= target) {
        keep = r + 1;
        break;
      }
    }
    float[] kept = scratchSaved(keep);
    for (int r = 0; r < keep; r++) {
      kept[r] = v[(int) k[r]];
    }
    Arrays.fill(v, 0, n, 0f);
    for (int r = 0; r < keep; r++) {
      v[(int) k[r]] = kept[r];
    }
  }

  /**
   * Sort key: ascending order = W descending, then id ascending (W < 2^41, id < 2^20); the low 32
   * bits are the id.
   */
  private static long weightKey(float v, int id) {
    return (((1L << 41) - WeightExp.integer(v)) << 20) | id;
  }

  /**
   * VocabOrder.ID: the block sums of the weight pass locate the block where the cumulative weight
   * first reaches ceil((u + 1) S / 2^32); its tokens' weights are recomputed (or read) in id order.
   * The chosen token j has C(P_j) <= u < C(P_{j+1}). Returns {token, lo, width}.
   */
  private static long[] selectById(
      float[] x, int off, int n, float m, float invT, float[] v, long[] blocks, long sum, long u) {
    long target = ceilScaled(u + 1, sum);
    long p = 0;
    int b = 0;
    while (p + blocks[b] < target) {
      p += blocks[b];
      b++;
    }
    int end = Math.min(n, (b + 1) * BLOCK);
    for (int j = b * BLOCK; j < end; j++) {
      long w =
          v != null
              ? WeightExp.integer(v[j])
              : WeightExp.weight(WeightExp.arg(x[off + j], m, invT));
      if (p + w >= target) {
        double r = TWO_32 / (double) sum;
        long lo = cdf(p, sum, r);
        return chosen(j, lo, cdf(p + w, sum, r) - lo);
      }
      p += w;
    }
    throw new IllegalStateException("block sums disagree with the per-token weights");
  }

  /**
   * VocabOrder.PERMUTED without a sort: the permutation is a bijection of [0, n), so each token's f
   * is placed at its permuted position (a counting sort) and the positions are walked in order.
   * Tokens with f = 0 occupy no interval.
   */
  private long[] selectPermuted(float[] v, int n, long sum, long u, SampleNoise noise) {
    long[] f = scratchQuanta(n);
    quantise(v, n, sum, f);
    KeyedPermutation perm =
        new KeyedPermutation(
            n, KeyedHash.hash(noise.promptSeed(), DOMAIN_VOCAB_PERMUTATION, noise.position()));
    long[] fAt = scratchKeys(n);
    int[] idAt = scratchIds(n);
    Arrays.fill(fAt, 0, n, 0L);
    for (int j = 0; j < n; j++) {
      if (f[j] > 0) {
        int at = (int) perm.apply(j);
        fAt[at] = f[j];
        idAt[at] = j;
      }
    }
    long c = 0;
    for (int at = 0; at < n; at++) {
      long w = fAt[at];
      if (u < c + w) {
        return chosen(idAt[at], c, w);
      }
      c += w;
    }
    throw new IllegalStateException("quantised CDF does not cover u=" + u + " (total " + c + ")");
  }

  /**
   * VocabOrder.PROB with partial selection: the f of the tokens with f > 0 are summed exactly per
   * bucket of their weight's top bits (exponent and 8 mantissa bits: buckets are ranges of W, so
   * each is a contiguous run of the (W desc, id asc) order); the bucket holding u is found from the
   * bucket totals, and only its tokens are sorted.
   */
  private long[] selectByProbability(float[] v, int n, long sum, long u) {
    long[] f = scratchQuanta(n);
    long[] mass = probBuckets;
    Arrays.fill(mass, 0L);
    quantise(v, n, sum, f, mass); // and f summed per bucket, in the same pass
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
      if (f[j] > 0 && bucketOfWeight(WeightExp.rintFloat(v[j])) == bucket) {
        k[count++] = weightKey(v[j], j);
      }
    }
    Arrays.sort(k, 0, count);
    for (int r = 0; r < count; r++) {
      int j = (int) (k[r] & 0xF_FFFFL);
      if (u < c + f[j]) {
        return chosen(j, c, f[j]);
      }
      c += f[j];
    }
    throw new IllegalStateException("bucket sums disagree with the per-token quanta");
  }

  private static final int PROB_BUCKET_BASE = Float.floatToRawIntBits(1f) >>> 15;

  /**
   * Bucket of a weight W = rint(v) in [1, 2^42): the exponent and 8 mantissa bits of (float) W, a
   * monotone function of W (rounding to float is monotone).
   */
  private static int probBucket(float v) {
    return bucketOfWeight(WeightExp.rintFloat(v));
  }

  /** {@link #probBucket} of W given as a float integer ((float) W is exact: W = rintFloat(v)). */
  private static int bucketOfWeight(float w) {
    return (Float.floatToRawIntBits(w) >>> 15) - PROB_BUCKET_BASE;
  }

  private static long[] chosen(int token, long lo, long f) {
    return new long[] {token, lo, f};
  }

  private float[] scratchWeights(int n) {
    if (weights.length < n) {
      weights = new float[n];
    }
    return weights;
  }

  private long[] scratchBlocks(int n) {
    if (blockSums.length < n) {
      blockSums = new long[n];
    }
    return blockSums;
  }

  private long[] scratchQuanta(int n) {
    if (quanta.length < n) {
      quanta = new long[n];
    }
    return quanta;
  }

  private int[] scratchIds(int n) {
    if (ids.length < n) {
      ids = new int[n];
    }
    return ids;
  }

  private float[] scratchSaved(int n) {
    if (saved.length < n) {
      saved = new float[Math.max(n, 2 * saved.length)];
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
