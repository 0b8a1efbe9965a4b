package quasiroll.worker.runtime.cpu;

import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import quasiroll.worker.model.TensorData;

/**
 * F32 weights. A single input vector is multiplied straight from the mapped bytes; a batch
 * first copies the row group to scratch and reuses it from cache for every input.
 */
final class F32Matrix extends WeightMatrix {
  F32Matrix(TensorData t) {
    super(t);
  }

  @Override
  void decodeRows(int row, int n, float[] dst, int dstOff) {
    data.asFloatBuffer().get(row * cols, dst, dstOff, n * cols);
  }

  @Override
  void multiplyRows(int row0, int n, float[] x, Q8Activations xq, int batch, float[] out,
      int outStride, WorkerScratch s) {
    if (batch > 1) {
      super.multiplyRows(row0, n, x, xq, batch, out, outStride, s);
      return;
    }
    // Same arithmetic as VectorKernels.dot: lane-wise fma, lanes left to right, then the tail.
    var F = VectorKernels.F;
    int L = VectorKernels.L;
    int upper = cols - cols % L;
    int r = 0;
    for (; r + 2 <= n; r += 2) {
      int b0 = (row0 + r) * cols * 4;
      int b1 = b0 + cols * 4;
      FloatVector a0 = FloatVector.zero(F);
      FloatVector a1 = a0;
      for (int i = 0; i < upper; i += L) {
        FloatVector xv = FloatVector.fromArray(F, x, i);
        a0 = FloatVector.fromByteBuffer(F, data, b0 + 4 * i, ByteOrder.LITTLE_ENDIAN).fma(xv, a0);
        a1 = FloatVector.fromByteBuffer(F, data, b1 + 4 * i, ByteOrder.LITTLE_ENDIAN).fma(xv, a1);
      }
      out[row0 + r] = tail(VectorKernels.sumLanes(a0, s.lanes), b0, x, upper);
      out[row0 + r + 1] = tail(VectorKernels.sumLanes(a1, s.lanes), b1, x, upper);
    }
    for (; r < n; r++) {
      int b0 = (row0 + r) * cols * 4;
      FloatVector a0 = FloatVector.zero(F);
      for (int i = 0; i < upper; i += L) {
        a0 = FloatVector.fromByteBuffer(F, data, b0 + 4 * i, ByteOrder.LITTLE_ENDIAN)
            .fma(FloatVector.fromArray(F, x, i), a0);
      }
      out[row0 + r] = tail(VectorKernels.sumLanes(a0, s.lanes), b0, x, upper);
    }
  }

  private float tail(float s, int rowByte, float[] x, int from) {
    for (int i = from; i < cols; i++) {
      s = Math.fma(data.getFloat(rowByte + 4 * i), x[i], s);
    }
    return s;
  }
}
