package quasiroll.common.fuzz;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Seeded byte-level mutations for the fuzz tests of every module (kept in main code so that each
 * module's tests can use it without test-jar plumbing; nothing in production calls it). Jazzer is
 * not available to this build, so the fuzz tests are plain JUnit loops over a seed corpus with a
 * fixed seed: every run tries the same inputs, and a failure names the seed and iteration that
 * reproduce it).
 *
 * <p>Mutations: bit flips, bytes set to boundary values (0x00, 0x7f, 0x80, 0xff), a little-endian
 * 32/64-bit field overwritten with a boundary integer (lengths and counts in binary formats),
 * truncation, a chunk duplicated or deleted, random bytes inserted.
 */
public final class Mutator {
  private static final long[] BOUNDARY = {
    0,
    1,
    -1,
    0x7f,
    0x80,
    0xff,
    0x7fff,
    0xffff,
    Integer.MAX_VALUE,
    Integer.MIN_VALUE,
    0xffffffffL,
    Long.MAX_VALUE,
    Long.MIN_VALUE,
    1L << 40
  };

  private final SplittableRandom rnd;

  public Mutator(long seed) {
    this.rnd = new SplittableRandom(seed);
  }

  /** 1 to 4 stacked mutations of {@code in} (never empty unless truncated to 0). */
  public byte[] mutate(byte[] in) {
    byte[] b = in.clone();
    int n = 1 + rnd.nextInt(4);
    for (int i = 0; i < n; i++) {
      b = once(b);
    }
    return b;
  }

  private byte[] once(byte[] b) {
    if (b.length == 0) {
      return new byte[] {(byte) rnd.nextInt(256)};
    }
    int at = rnd.nextInt(b.length);
    switch (rnd.nextInt(7)) {
      case 0 -> b[at] ^= (byte) (1 << rnd.nextInt(8));
      case 1 -> b[at] = (byte) new int[] {0x00, 0x7f, 0x80, 0xff}[rnd.nextInt(4)];
      case 2 -> {
        long v = BOUNDARY[rnd.nextInt(BOUNDARY.length)];
        int width = rnd.nextBoolean() ? 4 : 8;
        for (int i = 0; i < width && at + i < b.length; i++) {
          b[at + i] = (byte) (v >>> (8 * i));
        }
      }
      case 3 -> b = Arrays.copyOf(b, at);
      case 4 -> {
        int len = Math.min(b.length - at, 1 + rnd.nextInt(64));
        byte[] out = new byte[b.length + len];
        System.arraycopy(b, 0, out, 0, at + len);
        System.arraycopy(b, at, out, at + len, b.length - at);
        b = out;
      }
      case 5 -> {
        int len = Math.min(b.length - at, 1 + rnd.nextInt(64));
        byte[] out = new byte[b.length - len];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(b, at + len, out, at, b.length - at - len);
        b = out;
      }
      default -> {
        int len = 1 + rnd.nextInt(16);
        byte[] out = new byte[b.length + len];
        System.arraycopy(b, 0, out, 0, at);
        for (int i = 0; i < len; i++) {
          out[at + i] = (byte) rnd.nextInt(256);
        }
        System.arraycopy(b, at, out, at + len, b.length - at);
        b = out;
      }
    }
    return b;
  }
}
