package quasiroll.worker.model;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Encodes floats into, and decodes them from, every {@link DType}'s byte layout. The quantized
 * layouts are ggml's reference ones (ggml-quants.c, {@code quantize_row_q8_0_ref} and {@code
 * quantize_row_q4_0_ref}), so llama.cpp reads what {@link #encode} writes:
 *
 * <ul>
 *   <li>Q8_0 block of 32: f16 scale d = max|x|/127, then 32 int8 q = round(x/d); x = q*d.
 *   <li>Q4_0 block of 32: f16 scale d = m/-8 where m is the value of largest magnitude (sign kept),
 *       then 16 bytes; byte j holds element j in its low nibble and element j+16 in its high
 *       nibble, q = min(15, (int)(x/d + 8.5)); x = (q-8)*d.
 *   <li>Q4_K and Q6_K super-blocks of 256: see {@link KQuants}.
 * </ul>
 *
 * This is the reference (slow, scalar) path used by loaders' tests, fixtures and inspect; the
 * forward pass has its own kernels over the same layouts.
 */
public final class DTypeCodec {
  private DTypeCodec() {}

  private static final ValueLayout.OfFloat F32 =
      ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfShort I16 =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  /** All values of a tensor as floats (copies onto the heap: for tests and small tensors). */
  public static float[] toFloats(TensorData t) {
    long n = t.elements();
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("tensor " + t.name() + " too large to copy: " + n);
    }
    return decode(t.dtype(), t.segment(), (int) n);
  }

  /** Decodes the first {@code n} values stored from position 0 of {@code data}. */
  public static float[] decode(DType dtype, ByteBuffer data, int n) {
    return decode(dtype, MemorySegment.ofBuffer(data.duplicate().clear()), n);
  }

  /**
   * Decodes the first {@code n} values stored from offset 0 of {@code data} (little-endian; byte
   * offsets are long, so the segment may exceed 2 GiB).
   */
  public static float[] decode(DType dtype, MemorySegment data, int n) {
    MemorySegment b = data;
    float[] out = new float[n];
    switch (dtype) {
      case F32 -> {
        for (int i = 0; i < n; i++) {
          out[i] = b.get(F32, 4L * i);
        }
      }
      case F16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = HalfFloats.f16ToFloat(b.get(I16, 2L * i));
        }
      }
      case BF16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = HalfFloats.bf16ToFloat(b.get(I16, 2L * i));
        }
      }
      case Q8_0 -> {
        for (int blk = 0; blk < n / 32; blk++) {
          long base = blk * 34L;
          float d = HalfFloats.f16ToFloat(b.get(I16, base));
          for (int j = 0; j < 32; j++) {
            out[blk * 32 + j] = b.get(ValueLayout.JAVA_BYTE, base + 2 + j) * d;
          }
        }
      }
      case Q4_0 -> {
        for (int blk = 0; blk < n / 32; blk++) {
          long base = blk * 18L;
          float d = HalfFloats.f16ToFloat(b.get(I16, base));
          for (int j = 0; j < 16; j++) {
            int q = b.get(ValueLayout.JAVA_BYTE, base + 2 + j) & 0xff;
            out[blk * 32 + j] = ((q & 0x0f) - 8) * d;
            out[blk * 32 + j + 16] = ((q >>> 4) - 8) * d;
          }
        }
      }
      // n < 2^31 values of these types take under 2 GiB, so one ByteBuffer view holds them
      case Q4_K -> KQuants.decodeQ4K(little(b, dtype.bytesFor(n)), out, n);
      case Q6_K -> KQuants.decodeQ6K(little(b, dtype.bytesFor(n)), out, n);
      default -> throw new IllegalStateException("unhandled dtype " + dtype);
    }
    return out;
  }

  private static ByteBuffer little(MemorySegment m, long bytes) {
    return m.asSlice(0, bytes).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * Encodes values (count a multiple of the dtype's block size) into a new little-endian buffer.
   */
  public static byte[] encode(DType dtype, float[] values) {
    if (values.length % dtype.blockSize() != 0) {
      throw new IllegalArgumentException(
          dtype + " needs a multiple of " + dtype.blockSize() + " values, got " + values.length);
    }
    ByteBuffer b =
        ByteBuffer.allocate((int) dtype.bytesFor(values.length)).order(ByteOrder.LITTLE_ENDIAN);
    switch (dtype) {
      case F32 -> {
        for (float v : values) {
          b.putFloat(v);
        }
      }
      case F16 -> {
        for (float v : values) {
          b.putShort(HalfFloats.floatToF16(v));
        }
      }
      case BF16 -> {
        for (float v : values) {
          b.putShort(HalfFloats.floatToBf16(v));
        }
      }
      case Q8_0 -> {
        for (int blk = 0; blk < values.length / 32; blk++) {
          float amax = 0;
          for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(values[blk * 32 + j]));
          }
          float d = amax / 127f;
          float id = d != 0 ? 1f / d : 0f;
          b.putShort(HalfFloats.floatToF16(d));
          for (int j = 0; j < 32; j++) {
            b.put((byte) roundHalfAway(values[blk * 32 + j] * id));
          }
        }
      }
      case Q4_0 -> {
        for (int blk = 0; blk < values.length / 32; blk++) {
          float amax = 0;
          float max = 0;
          for (int j = 0; j < 32; j++) {
            float v = values[blk * 32 + j];
            if (Math.abs(v) > amax) {
              amax = Math.abs(v);
              max = v;
            }
          }
          float d = max / -8f;
          float id = d != 0 ? 1f / d : 0f;
          b.putShort(HalfFloats.floatToF16(d));
          for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) (values[blk * 32 + j] * id + 8.5f));
            int hi = Math.min(15, (int) (values[blk * 32 + j + 16] * id + 8.5f));
            b.put((byte) (lo | (hi << 4)));
          }
        }
      }
      case Q4_K -> KQuants.quantizeQ4K(values, b);
      case Q6_K -> KQuants.quantizeQ6K(values, b);
      default -> throw new IllegalStateException("unhandled dtype " + dtype);
    }
    return b.array();
  }

  /** C's roundf: halves away from zero (Math.round rounds them up). */
  private static int roundHalfAway(float x) {
    return (int) (x < 0 ? -Math.floor(-x + 0.5f) : Math.floor(x + 0.5f));
  }
}
