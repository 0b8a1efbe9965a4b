package quasiroll.common.noise;

import java.nio.charset.StandardCharsets;

/**
 * The counter-based construction behind every random quantity in quasiroll.
 *
 * <p>{@code mix} is the SplitMix64 finalizer (Steele, Lea and Flood 2014), a bijection on 64-bit
 * words with full avalanche. A keyed hash of a sequence of words folds them in one at a time:
 * {@code h = mix(h ^ mix(w + GOLDEN * (i + 1)))}. Every random quantity is {@code hash(promptSeed,
 * domain, ...counters)} where {@code domain} is a constant naming what the number is for (a shift,
 * a scrambling matrix, code bits of sample i at step t), so no two uses of randomness can collide
 * and no worker needs another's state.
 *
 * <p>The prompt seed is {@code hash(jobSeed, DOMAIN_PROMPT, utf8 bytes of the prompt id packed 8
 * per word, little-endian, then the byte length)}.
 */
public final class KeyedHash {
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  /** Domain constant for the prompt seed. Other domains live next to their users. */
  public static final long DOMAIN_PROMPT = 0x50524f4d50540001L; // "PROMPT\0\1"

  private KeyedHash() {}

  /** SplitMix64's output function: a 64-bit bijection with good avalanche. */
  public static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Keyed hash of {@code words} under {@code key}. */
  public static long hash(long key, long... words) {
    long h = mix(key ^ GOLDEN);
    for (int i = 0; i < words.length; i++) {
      h = mix(h ^ mix(words[i] + GOLDEN * (i + 1)));
    }
    return h;
  }

  public static long hash(long key, long a) {
    return mix(mix(key ^ GOLDEN) ^ mix(a + GOLDEN));
  }

  public static long hash(long key, long a, long b) {
    return mix(hash(key, a) ^ mix(b + GOLDEN * 2));
  }

  public static long hash(long key, long a, long b, long c) {
    return mix(hash(key, a, b) ^ mix(c + GOLDEN * 3));
  }

  public static long hash(long key, long a, long b, long c, long d) {
    return mix(hash(key, a, b, c) ^ mix(d + GOLDEN * 4));
  }

  /** The seed all of one prompt's randomization derives from. */
  public static long promptSeed(long jobSeed, String promptId) {
    byte[] b = promptId.getBytes(StandardCharsets.UTF_8);
    long[] words = new long[2 + (b.length + 7) / 8];
    words[0] = DOMAIN_PROMPT;
    for (int i = 0; i < b.length; i++) {
      words[1 + i / 8] |= (b[i] & 0xFFL) << (8 * (i % 8));
    }
    words[words.length - 1] = b.length;
    return hash(jobSeed, words);
  }

  /** A double in [0,1) from the top 53 bits of a hash. */
  public static double toUnitDouble(long h) {
    return (h >>> 11) * 0x1.0p-53;
  }
}
