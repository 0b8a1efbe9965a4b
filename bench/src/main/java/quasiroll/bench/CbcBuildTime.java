package quasiroll.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import quasiroll.common.qmc.CbcConstruction;
import quasiroll.common.qmc.Rank1Lattice;

/**
 * Wall time to build rank-1 CBC generating vectors from scratch (an empty temporary cache folder)
 * and to fetch them again from the cache, for the sizes quasiroll uses. Run: {@code java -cp
 * "bench/target/quasiroll-bench.jar:bench/target/lib/*" quasiroll.bench.CbcBuildTime}
 */
public final class CbcBuildTime {
  private CbcBuildTime() {}

  public static void main(String[] args) throws IOException {
    Path dir = Files.createTempDirectory("quasiroll-cbc-bench");
    System.setProperty("quasiroll.cache-dir", dir.toString());
    for (int n : new int[] {256, 1024, 4096, 16384}) {
      int d = CbcConstruction.defaultDimension(n);
      long t0 = System.nanoTime();
      int[] z = Rank1Lattice.cbc(n, d).generatingVector();
      long t1 = System.nanoTime();
      Rank1Lattice.cbc(n, d);
      long t2 = System.nanoTime();
      System.out.printf(
          "n=%5d d=%3d build %6.2f s  cached %6.3f ms  z starts %s%n",
          n, d, (t1 - t0) / 1e9, (t2 - t1) / 1e6, Arrays.toString(Arrays.copyOf(z, 5)));
    }
  }
}
