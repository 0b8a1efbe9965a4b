package quasiroll.worker.runtime.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;

/** Launches Y = X W^T (+ bias) (+ Y) per {@link MatmulPlan}, with the split-K reduction. */
final class CudaMatmul {
  private final CudaDevice device;
  private final CUfunction reduce;

  CudaMatmul(CudaDevice device) {
    this.device = device;
    this.reduce = device.function("transformer", "splitk_reduce");
    for (String k : new String[] {"m16", "m32", "m64"}) { // JIT every variant up front
      device.function("matmul", "matmul_bf16_" + k);
      device.function("matmul", "matmul_f16_" + k);
    }
  }

  /**
   * @param partial scratch of at least {@link MatmulPlan#partialFloats()} floats
   * @param accumulate add into y (the residual add) instead of overwriting it
   */
  void run(
      CUdeviceptr x,
      CudaWeights.Matrix w,
      CUdeviceptr y,
      CUdeviceptr bias,
      int rows,
      boolean accumulate,
      CUdeviceptr partial) {
    MatmulPlan p = MatmulPlan.of(rows, w.rows(), w.cols());
    CUfunction f = device.function("matmul", p.kernel(w.dtype()));
    CUdeviceptr biasOrNull = bias == null ? CudaDevice.NULL : bias;
    int acc = accumulate ? 1 : 0;
    if (p.splits() == 1) {
      device.launch(
          f,
          p.gridX(),
          p.gridY(),
          1,
          128,
          x,
          w.ptr(),
          y,
          biasOrNull,
          CudaDevice.NULL,
          rows,
          p.n(),
          p.k(),
          p.kPerSplit(),
          acc);
    } else {
      device.launch(
          f,
          p.gridX(),
          p.gridY(),
          p.splits(),
          128,
          x,
          w.ptr(),
          y,
          CudaDevice.NULL,
          partial,
          rows,
          p.n(),
          p.k(),
          p.kPerSplit(),
          acc);
      device.launch(
          reduce,
          CudaTransformer.gridStride((long) rows * p.n()),
          1,
          1,
          256,
          partial,
          y,
          biasOrNull,
          rows,
          p.n(),
          p.splits(),
          acc);
    }
  }
}
