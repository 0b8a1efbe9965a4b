package quasiroll.common.qmc;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Exact check of the (0, m, 2)-net property of a 2^m-point set in two dimensions. */
public final class NetProperty {
  private NetProperty() {}

  /**
   * Every elementary interval [a 2^-q, (a+1) 2^-q) x [b 2^-(m-q), (b+1) 2^-(m-q)) holds exactly one
   * of the 2^m points, for every q in 0..m.
   */
  public static void assertZeroMTwoNet(PointSet p, int m, int dimA, int dimB) {
    int n = 1 << m;
    assertEquals(n, p.numPoints());
    for (int q = 0; q <= m; q++) {
      int[] count = new int[n];
      for (int i = 0; i < n; i++) {
        long a = q == 0 ? 0 : p.coordinate(i, dimA) >>> (64 - q);
        long b = q == m ? 0 : p.coordinate(i, dimB) >>> (64 - (m - q));
        count[(int) ((a << (m - q)) | b)]++;
      }
      for (int cell = 0; cell < n; cell++) {
        assertEquals(
            1, count[cell], p.describe() + ": elementary interval q=" + q + " cell=" + cell);
      }
    }
  }
}
