package quasiroll.worker.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import quasiroll.worker.model.HalfFloats;

class Q8ActivationsTest {
  /**
   * Q8_0 input scales are rounded to f16 with Float.floatToFloat16 (an intrinsic); the GGUF writer
   * and the reference use HalfFloats.floatToF16. Both must round every non-NaN float the same way:
   * checked on every 127th bit pattern of all 2^32 (34M values, all exponents and sign) and on
   * every pattern whose exponent is in the f16 range's edges (subnormal, overflow) with low
   * mantissa bits exhaustive.
   */
  @Test
  void f16RoundingAgreesWithHalfFloats() {
    for (long b = 0; b < 1L << 32; b += 127) {
      check((int) b);
    }
    for (int exp : new int[] {101, 102, 103, 112, 113, 142, 143}) {
      for (int m = 0; m < 1 << 16; m++) {
        check((exp << 23) | (m << 7) | (m & 0x7f));
        check((exp << 23) | m);
      }
    }
  }

  private static void check(int bits) {
    float f = Float.intBitsToFloat(bits);
    if (Float.isNaN(f)) {
      return;
    }
    assertEquals(
        HalfFloats.floatToF16(f),
        Float.floatToFloat16(f),
        "float bits " + Integer.toHexString(bits));
  }
}
