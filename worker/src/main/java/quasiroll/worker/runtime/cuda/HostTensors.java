package quasiroll.worker.runtime.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.TensorData;

/** Host-side reads of weight tensors for the small ones the GPU keeps in f32 (norms, biases). */
final class HostTensors {
  private HostTensors() {}

  static float[] toFloats(TensorData t) {
    int n = Math.toIntExact(t.elements());
    ByteBuffer b = t.data().slice().order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[n];
    switch (t.dtype()) {
      case F32 -> b.asFloatBuffer().get(out);
      case BF16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = Float.intBitsToFloat((b.getShort(2 * i) & 0xffff) << 16);
        }
      }
      case F16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = halfToFloat(b.getShort(2 * i));
        }
      }
      default -> throw new IllegalArgumentException(
          "tensor " + t.name() + " is " + t.dtype() + "; the CUDA backend reads F32, F16 or BF16");
    }
    return out;
  }

  /** IEEE 754 binary16 to float (exact; Java 17 has no Float.float16ToFloat). */
  static float halfToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant * 0x1p-24f; // subnormal (or zero): mant * 2^-24, exact in float
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /**
   * Float to bf16 bits with round-to-nearest-even (as torch does), for F32 weights that the
   * tensor-core matmul needs in 16 bits.
   */
  static short floatToBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if ((bits & 0x7f800000) == 0x7f800000 && (bits & 0x7fffff) != 0) {
      return (short) ((bits >>> 16) | 0x40); // quiet NaN
    }
    int rounding = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  /** An F32 matrix as bf16 bytes (a direct buffer ready for upload). */
  static ByteBuffer f32ToBf16(TensorData t) {
    int n = Math.toIntExact(t.elements());
    ByteBuffer src = t.data().slice().order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer out = ByteBuffer.allocateDirect(2 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      out.putShort(2 * i, floatToBf16(src.getFloat(4 * i)));
    }
    return out;
  }

  /** The element type a matrix has on the GPU: F16 and BF16 as stored, F32 as BF16. */
  static DType deviceType(TensorData t) {
    return switch (t.dtype()) {
      case F16 -> DType.F16;
      case BF16, F32 -> DType.BF16;
      default -> throw new IllegalArgumentException(
          "tensor " + t.name() + " is " + t.dtype() + "; the CUDA backend needs F16, BF16 or F32"
              + " weights (quantised GGUF models run on --device cpu)");
    };
  }
}
