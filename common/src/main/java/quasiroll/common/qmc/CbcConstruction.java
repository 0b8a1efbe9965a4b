package quasiroll.common.qmc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Component-by-component (CBC) construction of rank-1 lattice generating vectors for any point
 * count n (not only primes).
 *
 * <p>Criterion: the squared worst-case error P_alpha with alpha = 2 in the weighted Korobov space
 * with product weights gamma_j = 1 / (j + 1)^2 (j = 0, 1, ...; summable, so the error bound does
 * not grow with the dimension and early positions get the most care): e^2(z) = -1 + (1/n) sum_i
 * prod_j (1 + gamma_j * omega(frac(i z_j / n))) with omega(x) = 2 pi^2 (x^2 - x + 1/6). Component s
 * takes the z in the units mod n that minimizes e^2 given z_0..z_{s-1} (z_0 = 1); since omega(x) =
 * omega(1 - x), z and n - z score the same, so only units in [1, n/2] are searched and ties go to
 * the smallest z; likewise only half the points are summed (see {@link #score}). This is the plain
 * O(d n phi(n) / 4) CBC (not the Nuyens-Cools FFT version): a few seconds for n = 4096 and 256
 * dimensions (docs/benchmarks.md has the measured time), which is why {@link
 * #defaultDimension(int)} shrinks the dimension for larger n.
 *
 * <p>CBC is greedy, so the vector for d dimensions is the prefix of the vector for any larger d;
 * the longest vector per n is cached in memory and in a text file under
 * $XDG_CACHE_HOME/quasiroll/rank1-cbc (default ~/.cache/quasiroll/rank1-cbc; the system property
 * quasiroll.cache-dir replaces $XDG_CACHE_HOME/quasiroll). The file is only a cache: the
 * computation is deterministic (Java double arithmetic is IEEE strict), so a missing or unreadable
 * file is simply recomputed.
 */
public final class CbcConstruction {
  private static final Logger log = LoggerFactory.getLogger(CbcConstruction.class);

  /** Bumped whenever the criterion or weights change, so stale cache files are ignored. */
  private static final String FORMAT = "quasiroll-rank1-cbc v2 P2 gamma=1/(j+1)^2";

  /** Largest n quasiroll builds lattices for (16 dimensions, about a second at this size). */
  public static final int MAX_POINTS = 16384;

  private static final Map<Integer, int[]> MEMORY = new ConcurrentHashMap<>();

  private CbcConstruction() {}

  /** Refuses point counts above {@link #MAX_POINTS} with a message for the user. */
  public static void checkSupported(int n) {
    if (n > MAX_POINTS) {
      throw new quasiroll.common.error.BadInputException(
          "k="
              + n
              + " is too large for sampler rank1: its CBC construction supports k <= "
              + MAX_POINTS
              + "; use sobol or lhs for larger groups");
    }
  }

  /** Product weight of dimension j. */
  static double weight(int j) {
    return 1.0 / ((j + 1.0) * (j + 1.0));
  }

  /**
   * The number of dimensions quasiroll builds for an n-point lattice: 256 up to n = 4096, then
   * fewer so that the construction stays around a second (at least 16, reached at {@link
   * #MAX_POINTS}).
   */
  public static int defaultDimension(int n) {
    if (n <= 4096) {
      return 256;
    }
    double scale = 4096.0 / n;
    return Math.max(16, (int) (256 * scale * scale));
  }

  /** The CBC generating vector for n points and d dimensions (computed once, then cached). */
  public static int[] generatingVector(int n, int d) {
    if (n < 1 || d < 1) {
      throw new IllegalArgumentException("CBC needs n >= 1 and d >= 1, got n=" + n + " d=" + d);
    }
    int[] known = MEMORY.get(n);
    if (known == null || known.length < d) {
      synchronized (CbcConstruction.class) {
        known = MEMORY.get(n);
        if (known == null || known.length < d) {
          int[] fromFile = readCache(n);
          if (known == null || (fromFile != null && fromFile.length > known.length)) {
            known = fromFile;
          }
          if (known == null || known.length < d) {
            known = extend(n, known == null ? new int[0] : known, d);
            writeCache(n, known);
          }
          MEMORY.put(n, known);
        }
      }
    }
    return java.util.Arrays.copyOf(known, d);
  }

  /** Extends a CBC prefix to d components. Package-private so tests can bypass the caches. */
  static int[] extend(int n, int[] prefix, int d) {
    int[] z = java.util.Arrays.copyOf(prefix, d);
    if (n == 1) {
      java.util.Arrays.fill(z, 0);
      return z;
    }
    double[] omega = new double[n];
    for (int r = 0; r < n; r++) {
      double x = (double) r / n;
      omega[r] = 2 * Math.PI * Math.PI * (x * x - x + 1.0 / 6.0);
    }
    double[] prod = new double[n];
    java.util.Arrays.fill(prod, 1.0);
    for (int s = 0; s < prefix.length; s++) {
      multiplyIn(prod, omega, n, z[s], weight(s));
    }
    List<Integer> units = new ArrayList<>();
    for (int c = 1; c <= n / 2; c++) {
      if (gcd(c, n) == 1) {
        units.add(c);
      }
    }
    for (int s = prefix.length; s < d; s++) {
      if (s == 0) {
        // Every unit gives the same 1-D point set, so the first component is 1 (the scores
        // of other units differ only by rounding in the summation order).
        z[0] = 1;
        multiplyIn(prod, omega, n, 1, weight(0));
        continue;
      }
      double best = Double.POSITIVE_INFINITY;
      int bestZ = 1;
      for (int c : units) {
        double sum = score(prod, omega, n, c);
        if (sum < best) {
          best = sum;
          bestZ = c;
        }
      }
      z[s] = bestZ;
      multiplyIn(prod, omega, n, bestZ, weight(s));
    }
    return z;
  }

  /** Squared worst-case error e^2 of the lattice (n, z) under the criterion above. */
  static double squaredError(int n, int[] z) {
    double total = 0;
    for (int i = 0; i < n; i++) {
      double p = 1;
      for (int j = 0; j < z.length; j++) {
        double x = (double) (((long) i * z[j]) % n) / n;
        p *= 1 + weight(j) * 2 * Math.PI * Math.PI * (x * x - x + 1.0 / 6.0);
      }
      total += p;
    }
    return total / n - 1;
  }

  /**
   * sum_{i=1}^{n-1} prod[i] * omega(i c mod n), using the symmetry i -> n - i (both factors are
   * symmetric, since frac((n-i) z / n) = 1 - frac(i z / n) in every dimension and omega(x) =
   * omega(1 - x)): twice the sum over i <= (n-1)/2, plus the middle term for even n. Two
   * accumulators break the floating-point add chain; the order is fixed, so the result is
   * deterministic.
   */
  private static double score(double[] prod, double[] omega, int n, int c) {
    int half = (n - 1) / 2;
    double s0 = 0;
    double s1 = 0;
    int r = 0;
    int i = 1;
    for (; i + 1 <= half; i += 2) {
      r += c;
      if (r >= n) {
        r -= n;
      }
      s0 += prod[i] * omega[r];
      r += c;
      if (r >= n) {
        r -= n;
      }
      s1 += prod[i + 1] * omega[r];
    }
    if (i <= half) {
      r += c;
      if (r >= n) {
        r -= n;
      }
      s0 += prod[i] * omega[r];
    }
    double middle = n % 2 == 0 ? prod[n / 2] * omega[(int) ((long) (n / 2) * c % n)] : 0;
    return 2 * (s0 + s1) + middle;
  }

  /**
   * prod[i] *= 1 + gamma * omega(i zs mod n) for i <= n/2 (the only entries {@link #score} reads).
   */
  private static void multiplyIn(double[] prod, double[] omega, int n, int zs, double gamma) {
    int r = 0;
    for (int i = 0; i <= n / 2; i++) {
      prod[i] *= 1 + gamma * omega[r];
      r += zs;
      if (r >= n) {
        r -= n;
      }
    }
  }

  private static int gcd(int a, int b) {
    while (b != 0) {
      int t = a % b;
      a = b;
      b = t;
    }
    return a;
  }

  /** The cache folder; the system property quasiroll.cache-dir overrides it (tests use that). */
  static Path cacheDir() {
    String override = System.getProperty("quasiroll.cache-dir");
    if (override != null && !override.isBlank()) {
      return Path.of(override).resolve("rank1-cbc");
    }
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base =
        xdg != null && !xdg.isBlank()
            ? Path.of(xdg)
            : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("quasiroll").resolve("rank1-cbc");
  }

  private static Path cacheFile(int n) {
    return cacheDir().resolve("n" + n + ".txt");
  }

  private static int[] readCache(int n) {
    Path f = cacheFile(n);
    try {
      if (!Files.isRegularFile(f)) {
        return null;
      }
      List<String> lines = Files.readAllLines(f, StandardCharsets.US_ASCII);
      if (lines.size() != 2 || !lines.get(0).equals(FORMAT + " n=" + n)) {
        return null;
      }
      String[] parts = lines.get(1).trim().split(" ");
      int[] z = new int[parts.length];
      for (int j = 0; j < z.length; j++) {
        z[j] = Integer.parseInt(parts[j]);
        if (z[j] < 0 || z[j] > n / 2 || (n > 1 && gcd(z[j], n) != 1)) {
          return null;
        }
      }
      return z;
    } catch (IOException | RuntimeException e) {
      log.debug("ignoring unreadable CBC cache file {}: {}", f, e.toString());
      return null;
    }
  }

  private static void writeCache(int n, int[] z) {
    Path f = cacheFile(n);
    try {
      Files.createDirectories(f.getParent());
      StringBuilder sb = new StringBuilder(FORMAT).append(" n=").append(n).append('\n');
      for (int j = 0; j < z.length; j++) {
        sb.append(j == 0 ? "" : " ").append(z[j]);
      }
      sb.append('\n');
      Path tmp = Files.createTempFile(f.getParent(), "n" + n, ".tmp");
      Files.writeString(tmp, sb, StandardCharsets.US_ASCII);
      Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | RuntimeException e) {
      log.debug("could not write CBC cache file {}: {}", f, e.toString());
    }
  }
}
