package quasiroll.common.qmc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigInteger;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FixedPointTest {
  @Test
  void fractionIsTheFloorOfRTimes2To64OverN() {
    SplittableRandom rng = new SplittableRandom(7);
    for (int trial = 0; trial < 2000; trial++) {
      int n = trial < 10 ? trial + 1 : 1 + rng.nextInt(Integer.MAX_VALUE);
      long r = rng.nextLong(n);
      long expected = BigInteger.valueOf(r).shiftLeft(64).divide(BigInteger.valueOf(n)).longValue();
      assertEquals(expected, FixedPoint.fraction(r, n), "r=" + r + " n=" + n);
    }
  }

  @Test
  void toDoubleTruncatesBelowOne() {
    assertEquals(0.0, FixedPoint.toDouble(0));
    assertEquals(0.5, FixedPoint.toDouble(Long.MIN_VALUE));
    assertEquals(1.0 - 0x1.0p-53, FixedPoint.toDouble(-1L));
    assertEquals(0.75, FixedPoint.toDouble(FixedPoint.fraction(3, 4)));
  }
}
