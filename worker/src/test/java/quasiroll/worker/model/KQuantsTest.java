package quasiroll.worker.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.fixture.GgufFixtureWriter;
import quasiroll.worker.model.fixture.TinyModel;
import quasiroll.worker.model.fixture.TinyModelSpec;

class KQuantsTest {
  @TempDir Path tmp;

  /**
   * Round trip through the reference quantizers: sizes per ggml (144 / 210 bytes per 256), and the
   * error per value within what the formats allow: Q6_K within one step d*|sc| of its sub-block
   * (plus the scale's own rounding), Q4_K's RMS error below 10% of the values' RMS (4 bits with a
   * min: about 1/15 of the range per step). Gaussian rows as in the fixtures.
   */
  @Test
  void quantizersRoundTripWithinTheFormatsResolution() {
    Random rnd = new Random(3);
    float[] v = new float[4 * 256];
    double sumSq = 0;
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (rnd.nextGaussian() * 0.05);
      sumSq += v[i] * v[i];
    }
    double rms = Math.sqrt(sumSq / v.length);
    byte[] q4 = DTypeCodec.encode(DType.Q4_K, v);
    byte[] q6 = DTypeCodec.encode(DType.Q6_K, v);
    assertEquals(4 * 144, q4.length);
    assertEquals(4 * 210, q6.length);
    float[] d4 = DTypeCodec.decode(DType.Q4_K, le(q4), v.length);
    float[] d6 = DTypeCodec.decode(DType.Q6_K, le(q6), v.length);
    double e4 = 0;
    double e6 = 0;
    for (int i = 0; i < v.length; i++) {
      e4 += (d4[i] - v[i]) * (d4[i] - v[i]);
      e6 += (d6[i] - v[i]) * (d6[i] - v[i]);
    }
    e4 = Math.sqrt(e4 / v.length);
    e6 = Math.sqrt(e6 / v.length);
    assertTrue(e4 < 0.10 * rms, "Q4_K rms error " + e4 + " vs rms " + rms);
    assertTrue(e6 < 0.03 * rms, "Q6_K rms error " + e6 + " vs rms " + rms);
    assertTrue(e6 < e4, "6 bits must beat 4 bits: " + e6 + " vs " + e4);
  }

  /** A zero block encodes to d = 0 and decodes to zeros (no division by zero). */
  @Test
  void zeroBlocksStayZero() {
    float[] v = new float[256];
    for (DType t : new DType[] {DType.Q4_K, DType.Q6_K}) {
      float[] d = DTypeCodec.decode(t, le(DTypeCodec.encode(t, v)), 256);
      for (float x : d) {
        assertEquals(0f, x, 0f, t.toString());
      }
    }
  }

  @Test
  void fixtureWriterRefusesRowsThatAreNotWholeSuperBlocks() {
    TinyModel model = TinyModel.generate(TinyModelSpec.llamaGqa(1)); // hidden 64
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () -> GgufFixtureWriter.write(model, tmp.resolve("m.gguf"), DType.Q4_K));
    assertTrue(
        e.getMessage().contains("not a multiple of the Q4_K block size 256"), e.getMessage());
  }

  private static ByteBuffer le(byte[] b) {
    return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
  }
}
