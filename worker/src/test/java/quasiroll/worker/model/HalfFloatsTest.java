package quasiroll.worker.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class HalfFloatsTest {
  @Test
  void everyF16ValueRoundTripsExactly() {
    for (int h = 0; h < 65536; h++) {
      float f = HalfFloats.f16ToFloat((short) h);
      if (Float.isNaN(f)) {
        continue;
      }
      assertEquals((short) h, HalfFloats.floatToF16(f), "half 0x" + Integer.toHexString(h));
    }
  }

  @Test
  void f16RoundsToNearestEven() {
    assertEquals(65504f, HalfFloats.f16ToFloat(HalfFloats.floatToF16(65504f)));
    assertEquals(Float.POSITIVE_INFINITY, HalfFloats.f16ToFloat(HalfFloats.floatToF16(65520f)));
    assertEquals(0x1p-24f, HalfFloats.f16ToFloat((short) 1));
    assertEquals(0f, HalfFloats.f16ToFloat(HalfFloats.floatToF16(0x1p-26f)));
    // 1 + 2^-11 is exactly between 1 and 1 + 2^-10: ties to even (1)
    assertEquals(1f, HalfFloats.f16ToFloat(HalfFloats.floatToF16(1f + 0x1p-11f)));
    // 1 + 3*2^-11 is between 1+2^-10 and 1+2^-9: ties to even (1 + 2^-9)
    assertEquals(1f + 0x1p-9f, HalfFloats.f16ToFloat(HalfFloats.floatToF16(1f + 3 * 0x1p-11f)));
  }

  @Test
  void bf16RoundsToNearestEven() {
    assertEquals(1f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(1f + 0x1p-8f)));
    assertEquals(1f + 0x1p-6f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(1f + 3 * 0x1p-8f)));
    assertEquals(-2.5f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(-2.5f)));
  }
}
