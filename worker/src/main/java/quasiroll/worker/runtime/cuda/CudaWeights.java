package quasiroll.worker.runtime.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUdeviceptr;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.DTypeCodec;
import quasiroll.worker.model.ModelConfig;
import quasiroll.worker.model.TensorData;
import quasiroll.worker.runtime.transformer.TransformerWeights;

/**
 * A model's weights on one device, in the layout of {@link CudaMemoryBudget}, built from the same
 * {@link TransformerWeights} structure the CPU backend walks: fused q/k/v and gate/up matrices
 * (uploaded part by part straight from the memory-mapped tensors, no host copy), f32 norms and
 * biases, and the RoPE cos/sin tables of every context position from the model's inverse
 * frequencies ({@code LoadedModel.ropeInverseFrequencies()}), computed as the CPU backend does
 * (angle = position * inv_freq in double, then (float) cos / sin), so both rotate by the same
 * floats.
 */
final class CudaWeights implements AutoCloseable {
  /** A row-major [rows][cols] matrix of 16-bit (or, for the embedding only, f32) elements. */
  record Matrix(CUdeviceptr ptr, DType dtype, int rows, int cols) {}

  record Layer(
      CUdeviceptr inputNorm,
      Matrix qkv,
      CUdeviceptr qkvBias,
      Matrix o,
      CUdeviceptr postNorm,
      Matrix gateUp,
      Matrix down) {}

  private final CudaDevice device;
  private final List<CUdeviceptr> owned = new ArrayList<>();
  final Matrix embed;
  final Matrix lmHead;
  final CUdeviceptr finalNorm;
  final Layer[] layers;
  final CUdeviceptr ropeCos;
  final CUdeviceptr ropeSin;

  CudaWeights(CudaDevice device, ModelConfig c, TransformerWeights w, double[] inverse) {
    this.device = device;
    this.embed = matrixAsStored(w.embedding());
    boolean shareHead = w.lmHead() == w.embedding() && w.embedding().dtype() != DType.F32;
    this.lmHead = shareHead ? embed : fused(List.of(w.lmHead()));
    this.finalNorm = vector(w.finalNorm());
    this.layers = new Layer[w.layers().size()];
    for (int l = 0; l < layers.length; l++) {
      TransformerWeights.Layer t = w.layers().get(l);
      CUdeviceptr bias = null;
      if (c.qkvBias()) {
        float[] q = DTypeCodec.toFloats(t.qBias());
        float[] k = DTypeCodec.toFloats(t.kBias());
        float[] v = DTypeCodec.toFloats(t.vBias());
        float[] b = new float[q.length + k.length + v.length];
        System.arraycopy(q, 0, b, 0, q.length);
        System.arraycopy(k, 0, b, q.length, k.length);
        System.arraycopy(v, 0, b, q.length + k.length, v.length);
        bias = floats(b);
      }
      layers[l] =
          new Layer(
              vector(t.attentionNorm()),
              fused(List.of(t.q(), t.k(), t.v())),
              bias,
              fused(List.of(t.o())),
              vector(t.mlpNorm()),
              fused(List.of(t.gate(), t.up())),
              fused(List.of(t.down())));
    }
    int half = inverse.length;
    int positions = c.contextLength();
    float[] cos = new float[positions * half];
    float[] sin = new float[positions * half];
    for (int p = 0; p < positions; p++) {
      for (int i = 0; i < half; i++) {
        double angle = p * inverse[i];
        cos[p * half + i] = (float) Math.cos(angle);
        sin[p * half + i] = (float) Math.sin(angle);
      }
    }
    this.ropeCos = floats(cos);
    this.ropeSin = floats(sin);
  }

  /** The element type a matrix has on the GPU: F16 and BF16 as stored, F32 as BF16. */
  static DType deviceType(TensorData t) {
    return switch (t.dtype()) {
      case F16 -> DType.F16;
      case BF16, F32 -> DType.BF16;
      default ->
          throw new BadInputException(
              "tensor "
                  + t.name()
                  + " is "
                  + t.dtype()
                  + "; the CUDA backend needs F16, BF16 or F32"
                  + " weights (quantised GGUF models run on --device cpu)");
    };
  }

  private CUdeviceptr alloc(long bytes) {
    CUdeviceptr p = device.alloc(bytes);
    owned.add(p);
    return p;
  }

  private CUdeviceptr floats(float[] v) {
    CUdeviceptr p = alloc((long) v.length * Float.BYTES);
    device.upload(p, v);
    return p;
  }

  private CUdeviceptr vector(TensorData t) {
    return floats(DTypeCodec.toFloats(t));
  }

  private Matrix matrixAsStored(TensorData t) {
    if (t.dtype() != DType.F32) {
      deviceType(t); // refuses quantised types with the explanation
    }
    long bytes = t.dtype().bytesFor(t.elements());
    CUdeviceptr p = alloc(bytes);
    device.upload(p, 0, t.segment(), bytes);
    return new Matrix(p, t.dtype(), (int) t.shape()[0], (int) t.shape()[1]);
  }

  /** Row-wise concatenation of matrices with equal column counts, in 16 bits. */
  private Matrix fused(List<TensorData> parts) {
    DType type = deviceType(parts.get(0));
    int rows = 0;
    for (TensorData p : parts) {
      if (deviceType(p) != type) {
        throw new BadInputException(
            "tensors "
                + parts.get(0).name()
                + " and "
                + p.name()
                + " have different element types ("
                + parts.get(0).dtype()
                + ", "
                + p.dtype()
                + "); the CUDA backend fuses them and needs one type");
      }
      rows += (int) p.shape()[0];
    }
    int cols = (int) parts.get(0).shape()[1];
    CUdeviceptr ptr = alloc((long) rows * cols * 2);
    long offset = 0;
    for (TensorData p : parts) {
      if (p.dtype() == DType.F32) {
        uploadAsBf16(p, ptr, offset, cols);
      } else {
        device.upload(ptr, offset, p.segment(), p.elements() * 2);
      }
      offset += p.elements() * 2;
    }
    return new Matrix(ptr, type, rows, cols);
  }

  /**
   * An F32 matrix converted to BF16 and uploaded at ptr + offset, a range of rows at a time, so no
   * host array nears 2 GiB whatever the matrix's size (an F32 head of a large vocabulary is).
   */
  private void uploadAsBf16(TensorData p, CUdeviceptr ptr, long offset, int cols) {
    int rows = Math.toIntExact(p.shape()[0]);
    int step = Math.max(1, CONVERT_VALUES / cols);
    // cuMemcpyHtoD from pageable memory returns once the source is consumed: one staging buffer
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment staging = arena.allocate((long) Math.min(step, rows) * cols * 2);
      for (int r = 0; r < rows; r += step) {
        int n = Math.min(step, rows - r);
        MemorySegment f32 = p.segment().asSlice((long) r * cols * 4, (long) n * cols * 4);
        byte[] bf16 = DTypeCodec.encode(DType.BF16, DTypeCodec.decode(DType.F32, f32, n * cols));
        MemorySegment.copy(bf16, 0, staging, ValueLayout.JAVA_BYTE, 0, bf16.length);
        device.upload(ptr, offset + (long) r * cols * 2, staging, bf16.length);
      }
    }
  }

  /** Values converted per host round in {@link #uploadAsBf16} (64 MiB of f32). */
  private static final int CONVERT_VALUES = 1 << 24;

  @Override
  public void close() {
    for (int i = 0; i < owned.size(); i++) {
      device.free(owned.get(i));
    }
    owned.clear();
  }
}
