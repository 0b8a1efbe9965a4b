package quasiroll.common.qmc;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Sobol' direction numbers from Joe and Kuo's file new-joe-kuo-6.21201 (S. Joe and F. Y. Kuo,
 * "Constructing Sobol sequences with better two-dimensional projections", SIAM J. Sci. Comput. 30,
 * 2008; BSD-style licence). The first 1000 dimensions ship inside commons-math3 as the resource
 * {@value #RESOURCE}; those are the ones used here, which is also what scipy.stats.qmc.Sobol uses
 * for its first 1000 dimensions.
 *
 * <p>Direction numbers are stored left-aligned in 64-bit words: v[j][k] = m_{k+1} * 2^(63-k), so
 * coordinate bits are the top bits of a fixed-point value. Dimension 0 is the van der Corput
 * sequence (all m = 1); dimension j >= 1 comes from line j of the file (its d = j+1).
 */
public final class JoeKuoDirectionNumbers {
  public static final String RESOURCE =
      "/assets/org/apache/commons/math3/random/new-joe-kuo-6.1000";

  /** Dimensions available from the shipped file. */
  public static final int MAX_DIMENSION = 1000;

  /**
   * Direction numbers per dimension; a Sobol' index i < 2^BITS uses the first BITS of them, so
   * coordinates have at most BITS significant bits.
   */
  public static final int BITS = 32;

  private static volatile long[][] cached;

  private JoeKuoDirectionNumbers() {}

  /** v[j][k] for j < {@link #MAX_DIMENSION}, k < {@link #BITS}. Do not modify the arrays. */
  static long[][] directions() {
    long[][] v = cached;
    if (v == null) {
      synchronized (JoeKuoDirectionNumbers.class) {
        if (cached == null) {
          cached = load();
        }
        v = cached;
      }
    }
    return v;
  }

  private static long[][] load() {
    long[][] v = new long[MAX_DIMENSION][BITS];
    for (int k = 0; k < BITS; k++) {
      v[0][k] = 1L << (63 - k);
    }
    InputStream in = JoeKuoDirectionNumbers.class.getResourceAsStream(RESOURCE);
    if (in == null) {
      throw new IllegalStateException(
          "Sobol' direction numbers " + RESOURCE + " missing from the classpath (commons-math3)");
    }
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII))) {
      r.readLine(); // header "d s a m_i"
      for (int j = 1; j < MAX_DIMENSION; j++) {
        String line = r.readLine();
        if (line == null) {
          throw new IllegalStateException(RESOURCE + " ends before dimension " + (j + 1));
        }
        String[] f = line.trim().split("\\s+");
        int d = Integer.parseInt(f[0]);
        int s = Integer.parseInt(f[1]);
        int a = Integer.parseInt(f[2]);
        if (d != j + 1 || f.length != 3 + s) {
          throw new IllegalStateException(
              RESOURCE + " line for dimension " + (j + 1) + " is malformed: " + line);
        }
        long[] vj = v[j];
        for (int k = 0; k < s && k < BITS; k++) {
          vj[k] = Long.parseLong(f[3 + k]) << (63 - k);
        }
        // Bratley-Fox recurrence for the primitive polynomial of degree s with inner
        // coefficients a_1..a_{s-1} (bits of a, a_1 most significant).
        for (int k = s; k < BITS; k++) {
          long x = vj[k - s] ^ (vj[k - s] >>> s);
          for (int l = 1; l < s; l++) {
            if (((a >>> (s - 1 - l)) & 1) != 0) {
              x ^= vj[k - l];
            }
          }
          vj[k] = x;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + RESOURCE, e);
    }
    return v;
  }
}
