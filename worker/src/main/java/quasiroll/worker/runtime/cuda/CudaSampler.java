package quasiroll.worker.runtime.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.worker.runtime.DeviceChoices;

/**
 * Host side of the coupled sampling kernel (sampling.cu): uploads the codes, launches one block per
 * row, brings back token, bucket and the two doubles the logprobs are finished from with
 * CoupledTokenSampler's own formulas (so the reported logprobs are bit-identical too).
 */
final class CudaSampler implements AutoCloseable {
  private static final double LN_TWO_32 = 32 * StrictMath.log(2);

  private final CudaDevice device;
  private final CUfunction kernel;
  private final int capacity;
  private final CUdeviceptr codes;
  private final CUdeviceptr token;
  private final CUdeviceptr lo;
  private final CUdeviceptr width;
  private final CUdeviceptr rawDelta;
  private final CUdeviceptr rawSum;
  private final double[] hostDelta;
  private final double[] hostSum;

  CudaSampler(CudaDevice device, int capacity) {
    this.device = device;
    this.kernel = device.function("sampling", "coupled_sample");
    this.capacity = capacity;
    this.codes = device.alloc(8L * capacity);
    this.token = device.alloc(4L * capacity);
    this.lo = device.alloc(8L * capacity);
    this.width = device.alloc(8L * capacity);
    this.rawDelta = device.alloc(8L * capacity);
    this.rawSum = device.alloc(8L * capacity);
    this.hostDelta = new double[capacity];
    this.hostSum = new double[capacity];
  }

  /** Device bytes of a sampler for {@code capacity} rows. */
  static long bytes(int capacity) {
    return (long) capacity * (8 + 4 + 8 + 8 + 8 + 8);
  }

  /**
   * Samples rows 0..n-1 of {@code logits} (row r at r * rowStride floats; stride 0 samples every
   * row from row 0) with {@code codes[r]}.
   */
  void sample(
      CUdeviceptr logits,
      long rowStride,
      int vocab,
      int n,
      long[] codeValues,
      DecodeParams params,
      DeviceChoices out) {
    if (n > capacity || out.capacity() < n) {
      throw new IllegalArgumentException(
          "sample of " + n + " rows; sampler holds " + capacity + ", output " + out.capacity());
    }
    boolean greedy = params.greedy();
    device.upload(codes, codeValues, n);
    device.launch(
        kernel,
        n,
        1,
        1,
        1024,
        logits,
        rowStride,
        vocab,
        greedy ? 1 : 0,
        greedy ? 1.0 : 1.0 / params.temperature(),
        params.topK(),
        params.topP(),
        params.minP(),
        codes,
        token,
        lo,
        width,
        rawDelta,
        rawSum);
    device.download(out.tokens(), n, token);
    device.download(out.lo(), n, lo);
    device.download(out.width(), n, width);
    device.download(hostDelta, n, rawDelta);
    device.download(hostSum, n, rawSum);
    for (int j = 0; j < n; j++) {
      // CoupledTokenSampler's formulas on the same doubles.
      out.rawLogprob()[j] = (float) (hostDelta[j] - StrictMath.log(hostSum[j]));
      out.processedLogprob()[j] =
          greedy ? 0f : (float) (StrictMath.log((double) out.width()[j]) - LN_TWO_32);
    }
  }

  @Override
  public void close() {
    for (CUdeviceptr p : new CUdeviceptr[] {codes, token, lo, width, rawDelta, rawSum}) {
      device.free(p);
    }
  }
}
